import { StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IamwatchConfig } from './config';
import { Alarms } from './constructs/alarms';
import { DETECT_BATCHING_WINDOW, DETECT_TIMEOUT, Detect } from './constructs/detect';
import { EventIntake } from './constructs/event-intake';
import { GroupedStack } from './constructs/group';
import { MemberStackSet } from './constructs/member-stack-set';
import { RunbookHosting } from './constructs/runbook-hosting';
import { visibilityTimeoutFor } from './constructs/queue-with-dlq';
import { Ticketing } from './constructs/ticketing';

export interface CentralStackProps extends StackProps {
  readonly config: IamwatchConfig;
  /** The member accounts' template (synthesized by MemberStack), the StackSet's template body. */
  readonly memberTemplateBody: string;
}

/**
 * The security account's part, one construct per trust zone:
 * - `Intake`: the organization's IAM events arrive on the central bus and wait in the events queue;
 * - `Detection`: the detect function reads member accounts, files findings and puts finding
 *   events on the findings bus, which only it may write to;
 * - `Ticketing`: urgent findings of that bus become Jira issues and Slack messages;
 * - `Alarms`: the pipeline's health reaches the security team;
 * - `Members`: the StackSet that deploys the member resources into the organization;
 * - `Runbooks` (with `iamwatch:runbookHosting`): the runbooks, rendered, served to the organization.
 * The groups do not take part in the logical ids (`GroupedStack`).
 */
export class CentralStack extends GroupedStack {
  public readonly intake: EventIntake;
  public readonly detect: Detect;
  public readonly ticketing: Ticketing;
  public readonly alarms: Alarms;
  public readonly members: MemberStackSet;
  public readonly runbooks?: RunbookHosting;

  constructor(scope: Construct, id: string, props: CentralStackProps) {
    super(scope, id, {
      description: 'iamwatch central: event buses, queues, detect and ticket functions, alarms, member StackSet',
      ...props,
    });
    const { config } = props;

    this.intake = new EventIntake(this, 'Intake', {
      orgId: config.orgId,
      visibilityTimeout: visibilityTimeoutFor(DETECT_TIMEOUT, DETECT_BATCHING_WINDOW),
    });
    if (config.runbookHosting) this.runbooks = new RunbookHosting(this, 'Runbooks', { orgId: config.orgId });
    this.detect = new Detect(this, 'Detection', {
      config,
      eventsQueue: this.intake.events.queue,
      runbookBaseUrl: this.runbooks?.baseUrl ?? config.runbookBaseUrl,
    });
    this.ticketing = new Ticketing(this, 'Ticketing', { config, findingsBus: this.detect.findingsBus });

    this.alarms = new Alarms(this, 'Alarms', { alarmEmail: config.alarmEmail });
    for (const q of [this.intake.events, this.ticketing.tickets]) {
      this.alarms.dlqDepth(q);
      this.alarms.oldestMessage(q);
    }
    this.alarms.functionErrors('Detect', this.detect.fn.function);
    this.alarms.functionErrors('Ticket', this.ticketing.fn.function);
    this.alarms.ruleFailures('IamEvents', this.intake.rule, this.intake.ruleDlq);
    this.alarms.ruleFailures('UrgentFindings', this.ticketing.rule, this.ticketing.ruleDlq);

    this.members = new MemberStackSet(this, 'Members', {
      targetOus: config.targetOus,
      regions: config.signinRegions,
      templateBody: props.memberTemplateBody,
      dependsOn: [this.detect.fn.role, this.ticketing.fn.role, this.intake.bus],
    });
  }
}

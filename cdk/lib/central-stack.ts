import { Duration, StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import { IamwatchConfig } from './config';
import { Alarms } from './constructs/alarms';
import { Analytics } from './constructs/analytics';
import { DETECT_BATCHING_WINDOW, DETECT_TIMEOUT, Detect } from './constructs/detect';
import { EventIntake } from './constructs/event-intake';
import { GroupedStack } from './constructs/group';
import { Inventory } from './constructs/inventory';
import { MemberStackSet } from './constructs/member-stack-set';
import { RunbookHosting } from './constructs/runbook-hosting';
import { StackSetAlerts } from './constructs/stackset-alerts';
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
 * - `Runbooks` (with `iamwatch:runbookHosting`): the runbooks, rendered, served to the organization;
 * - `Inventory`: the daily sweep of every account's IAM users, its bucket and schedule;
 * - `Analytics`: the Glue tables over the inventory (and the organization trail), the Athena workgroup.
 * The groups do not take part in the logical ids (`GroupedStack`).
 */
export class CentralStack extends GroupedStack {
  public readonly intake: EventIntake;
  public readonly detect: Detect;
  public readonly ticketing: Ticketing;
  public readonly alarms: Alarms;
  public readonly members: MemberStackSet;
  public readonly runbooks?: RunbookHosting;
  public readonly inventory: Inventory;
  public readonly analytics: Analytics;
  public readonly stackSetAlerts: StackSetAlerts;

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
    // The detect function's embedded metrics (namespace iamwatch, Function=detect).
    this.alarms.functionMetric('DetectRejectedEnvelopes', 'detect', 'RejectedEnvelopes', 1,
      'iamwatch-detect rejected malformed or forged envelopes (wrong source, bad account id): a forwarding rule or a member account sends what CloudTrail does not; see the function log for each message id and reason');
    this.alarms.functionMetric('DetectEnrichmentFailures', 'detect', 'EnrichmentFailures', 1,
      'iamwatch-detect filed findings it could not enrich (iamwatch-member or iamwatch-org-reader missing, access denied, throttled); see runbooks/ops-securityhub-not-enabled.md and the function log');

    this.inventory = new Inventory(this, 'Inventory', {
      config,
      runbookBaseUrl: this.runbooks?.baseUrl ?? config.runbookBaseUrl,
      ...(this.ticketing.slackSecret !== undefined ? { slackSecret: this.ticketing.slackSecret } : {}),
    });
    this.analytics = new Analytics(this, 'Analytics', {
      tablesLocation: this.inventory.tablesLocation,
      resultsLocation: this.inventory.athenaResults,
      retentionDays: config.inventoryRetentionDays,
      ...(config.cloudtrail !== undefined ? { cloudtrail: config.cloudtrail } : {}),
    });
    this.alarms.functionErrors('Inventory', this.inventory.fn.function);
    this.alarms.functionMetric('InventoryCoverageGaps', 'inventory', 'CoverageGaps', 1,
      'The daily sweep found IAM users created since the previous sweep that the real-time path never reported: forwarding or detection is broken in those accounts (see the report and the function log)',
      Duration.hours(1));
    this.alarms.alarm('InventoryScheduleDlqDepth', this.inventory.scheduleDlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 1,
      'EventBridge Scheduler could not invoke iamwatch-inventory; the message in iamwatch-inventory-schedule-dlq says why');
    this.inventoryNotRun();
    this.stackSetAlerts = new StackSetAlerts(this, 'StackSetAlerts', { alarms: this.alarms });

    this.members = new MemberStackSet(this, 'Members', {
      targetOus: config.targetOus,
      regions: config.signinRegions,
      templateBody: props.memberTemplateBody,
      dependsOn: [this.detect.fn.role, this.ticketing.fn.role, this.inventory.fn.role, this.intake.bus],
    });
  }

  /** `InventoryNotRun`: no sweep started for more than a day (schedule disabled, deleted or failing). */
  private inventoryNotRun(): void {
    const invocations = this.inventory.fn.function.metricInvocations({ period: Duration.days(1), statistic: 'Sum' });
    const a = new cloudwatch.Alarm(this.alarms, 'InventoryNotRun', {
      alarmName: 'iamwatch-inventory-not-run',
      alarmDescription: 'iamwatch-inventory has not run for a day: check the schedule iamwatch/iamwatch-inventory-daily and its dead-letter queue',
      metric: invocations,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const action = new cwActions.SnsAction(this.alarms.topic);
    a.addAlarmAction(action);
    a.addOkAction(action);
  }
}

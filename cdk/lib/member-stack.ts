import { BootstraplessSynthesizer, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ruleTargetDlq } from './constructs/queue-with-dlq';
import {
  DETECT_ROLE_NAME,
  FORWARD_DLQ_NAME,
  FORWARD_RULE_NAME,
  FORWARDED_EVENT_PATTERN,
  MEMBER_ROLE_NAME,
  TICKET_ROLE_NAME,
  WRITEBACK_ROLE_NAME,
  busArn,
  roleArn,
} from './names';

/** The IAM reads enrichment needs (docs/contracts.md, "Roles"). */
export const MEMBER_IAM_ACTIONS = [
  'iam:GetUser',
  'iam:ListGroupsForUser',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListAttachedGroupPolicies',
  'iam:ListGroupPolicies',
  'iam:ListMFADevices',
  'iam:ListAccessKeys',
  'iam:GetLoginProfile',
];

/** Security Hub calls of the detect function on the account's own findings (docs/contracts.md, "Roles"). */
export const MEMBER_SECURITYHUB_IMPORT_ACTIONS = ['securityhub:BatchImportFindings'];
/** Reading the findings a resolving event ends, before re-importing them archived. */
export const MEMBER_SECURITYHUB_READ_ACTIONS = ['securityhub:GetFindings'];
/** The ticket function's write-back (Workflow NOTIFIED, a note naming the ticket): nothing else. */
export const WRITEBACK_ACTIONS = ['securityhub:BatchUpdateFindings'];

export interface MemberResourcesProps {
  readonly orgId: string;
  readonly securityAccountId: string;
}

/**
 * What iamwatch needs in a monitored account: the default-bus rule that forwards the in-scope IAM
 * events to the central bus (with a dead-letter queue for what it cannot deliver), the role
 * EventBridge uses for that, the `iamwatch-member` role the detect function assumes for enrichment
 * and for filing findings in this account, and the `iamwatch-writeback` role the ticket function
 * assumes to write the ticket key back on a finding.
 *
 * Account-agnostic (pseudo parameters only), so one template serves every account of the StackSet.
 */
export class MemberResources extends Construct {
  public readonly memberRole: iam.Role;
  public readonly writebackRole: iam.Role;
  public readonly forwardRule: events.CfnRule;
  public readonly forwardRole: iam.Role;
  public readonly forwardDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: MemberResourcesProps) {
    super(scope, id);
    const centralBusArn = busArn(props.securityAccountId);
    const account = Stack.of(this).account;
    const region = Stack.of(this).region;
    // Built from the name, not the rule's attribute: the rule refers to the role.
    const forwardRuleArn = `arn:aws:events:${region}:${account}:rule/${FORWARD_RULE_NAME}`;

    this.forwardRole = new iam.Role(this, 'ForwardRole', {
      description: 'Lets EventBridge put the in-scope IAM events on the central iamwatch bus',
      // Only for the forwarding rule of this account (confused deputy).
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceArn': forwardRuleArn, 'aws:SourceAccount': account } },
      }),
      inlinePolicies: {
        'put-central-bus': new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [centralBusArn] })],
        }),
      },
    });

    this.forwardDlq = ruleTargetDlq(this, 'ForwardTargetDlq', FORWARD_DLQ_NAME);
    this.forwardDlq.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ForwardRuleDeadLetters',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.forwardDlq.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': forwardRuleArn } },
      }),
    );

    // L1: the L2 rule would want an IEventBus object for a bus in another account.
    this.forwardRule = new events.CfnRule(this, 'ForwardRule', {
      name: FORWARD_RULE_NAME,
      description: 'iamwatch: forward in-scope IAM CloudTrail events to the central bus',
      eventBusName: 'default',
      state: 'ENABLED',
      eventPattern: FORWARDED_EVENT_PATTERN,
      targets: [
        {
          id: 'central-bus',
          arn: centralBusArn,
          roleArn: this.forwardRole.roleArn,
          retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 24 * 3600 },
          deadLetterConfig: { arn: this.forwardDlq.queueArn },
        },
      ],
    });

    this.memberRole = new iam.Role(this, 'MemberRole', {
      roleName: MEMBER_ROLE_NAME,
      description: 'iamwatch: IAM reads for enrichment and Security Hub filing of iamwatch findings',
      assumedBy: new iam.PrincipalWithConditions(
        new iam.ArnPrincipal(roleArn(props.securityAccountId, DETECT_ROLE_NAME)),
        { StringEquals: { 'aws:PrincipalOrgID': props.orgId } },
      ),
      inlinePolicies: {
        'iamwatch-member': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'IamReadsForEnrichment',
              actions: MEMBER_IAM_ACTIONS,
              resources: [`arn:aws:iam::${account}:user/*`, `arn:aws:iam::${account}:group/*`],
            }),
            new iam.PolicyStatement({
              sid: 'SecurityHubImport',
              actions: MEMBER_SECURITYHUB_IMPORT_ACTIONS,
              resources: [`arn:aws:securityhub:${region}:${account}:product/${account}/default`],
            }),
            new iam.PolicyStatement({
              sid: 'SecurityHubOwnFindings',
              actions: MEMBER_SECURITYHUB_READ_ACTIONS,
              resources: [`arn:aws:securityhub:${region}:${account}:hub/default`],
            }),
          ],
        }),
      },
    });

    this.writebackRole = new iam.Role(this, 'WriteBackRole', {
      roleName: WRITEBACK_ROLE_NAME,
      description: 'iamwatch: the ticket key written back on iamwatch findings (Security Hub BatchUpdateFindings only)',
      assumedBy: new iam.PrincipalWithConditions(
        new iam.ArnPrincipal(roleArn(props.securityAccountId, TICKET_ROLE_NAME)),
        { StringEquals: { 'aws:PrincipalOrgID': props.orgId } },
      ),
      inlinePolicies: {
        'iamwatch-writeback': new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'SecurityHubWriteBack',
              actions: WRITEBACK_ACTIONS,
              resources: [`arn:aws:securityhub:${region}:${account}:hub/default`],
            }),
          ],
        }),
      },
    });
    // cdk-nag names the account as it appears in the template: a pseudo parameter or a literal.
    const nagAccount = Token.isUnresolved(account) ? '<AWS::AccountId>' : account;
    Validations.of(this.memberRole).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:iam::${nagAccount}:user/*]`,
        reason: 'Enrichment reads whichever IAM user an event names; the user is only known at run time. Read-only actions.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:iam::${nagAccount}:group/*]`,
        reason: 'Enrichment reads the policies of whichever groups the user is in; known only at run time. Read-only actions.',
      },
    );
  }
}

export interface MemberStackProps extends StackProps, MemberResourcesProps {}

/**
 * The template the StackSet deploys to every member account. It is synthesized without bootstrap
 * resources (StackSet instances cannot use the CDK bootstrap) and without CDK metadata, and the
 * central stack embeds it as the StackSet's template body.
 */
export class MemberStack extends Stack {
  public readonly resources: MemberResources;

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, {
      ...props,
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
      description: 'iamwatch member account: IAM event forwarding to the central bus, the iamwatch-member and iamwatch-writeback roles',
    });
    this.resources = new MemberResources(this, 'Member', props);
  }
}

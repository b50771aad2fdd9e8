import { Aws, BootstraplessSynthesizer, CfnCondition, CfnResource, Fn, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ruleTargetDlq } from './constructs/queue-with-dlq';
import {
  DETECT_ROLE_NAME,
  FORWARD_DLQ_NAME,
  INVENTORY_ROLE_NAME,
  FORWARD_ROLE_NAME,
  FORWARD_RULE_NAME,
  FORWARDED_EVENT_PATTERN,
  MEMBER_ROLE_NAME,
  REGION,
  SIGNIN_EVENT_PATTERN,
  SIGNIN_FORWARD_RULE_NAME,
  TICKET_ROLE_NAME,
  WRITEBACK_ROLE_NAME,
  busArn,
  roleArn,
} from './names';

/**
 * The IAM reads of users and groups that enrichment and the inventory sweep need (docs/contracts.md,
 * "Roles"), on the account's users and groups.
 */
export const MEMBER_IAM_ACTIONS = [
  'iam:GetUser',
  'iam:ListGroupsForUser',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListAttachedGroupPolicies',
  'iam:ListGroupPolicies',
  'iam:GetGroupPolicy',
  'iam:ListMFADevices',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:ListUserTags',
  'iam:GetLoginProfile',
];

/** The sweep's account-wide reads: the credential report, the user list and the authorization details (users, groups, their policies and tags in one paged call; no resource but `*`). */
export const MEMBER_ACCOUNT_READ_ACTIONS = ['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:ListUsers', 'iam:GetAccountAuthorizationDetails'];

/** The sweep's policy reads (admin through an attached policy): AWS managed and the account's own. */
export const MEMBER_POLICY_READ_ACTIONS = ['iam:GetPolicy', 'iam:GetPolicyVersion'];

/** Security Hub calls of the detect function on the account's own findings (docs/contracts.md, "Roles"). */
export const MEMBER_SECURITYHUB_IMPORT_ACTIONS = ['securityhub:BatchImportFindings'];
/** Reading the findings a resolving event ends, before re-importing them archived. */
export const MEMBER_SECURITYHUB_READ_ACTIONS = ['securityhub:GetFindings'];
/** The ticket function's write-back (Workflow NOTIFIED, a note naming the ticket): nothing else. */
export const WRITEBACK_ACTIONS = ['securityhub:BatchUpdateFindings'];

export interface MemberResourcesProps {
  readonly orgId: string;
  readonly securityAccountId: string;
  /** Regions whose sign-in rule may use the forwarding role (us-east-1 included). */
  readonly signinRegions: readonly string[];
  /**
   * The StackSet's template serves every region: this condition (us-east-1) keeps the IAM
   * forwarding rule and the roles, which are global, to one region. None: a us-east-1-only stack.
   */
  readonly homeRegionOnly?: CfnCondition;
  /** With this condition (every other region), the template also holds the sign-in rule. */
  readonly signInRegionsOnly?: CfnCondition;
}

/** The ARN of a rule in an account and region. */
function ruleArn(region: string, account: string, name: string): string {
  return `arn:aws:events:${region}:${account}:rule/${name}`;
}

/** Puts a resource (its L1) under a condition of the template. */
function onlyIf(condition: CfnCondition | undefined, ...constructs: Construct[]): void {
  if (condition === undefined) return;
  for (const c of constructs) {
    const cfn = (c.node.defaultChild ?? c) as CfnResource;
    cfn.cfnOptions.condition = condition;
  }
}

/**
 * The dead-letter queue of a forwarding rule's target (`iamwatch-forward-target-dlq`, one per
 * region: SQS is regional), to which EventBridge may send only for the named rules.
 */
export function forwardTargetDlq(scope: Construct, id: string, ruleArns: string[]): sqs.Queue {
  const dlq = ruleTargetDlq(scope, id, FORWARD_DLQ_NAME);
  dlq.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'ForwardRuleDeadLetters',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [dlq.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': ruleArns.length === 1 ? ruleArns[0] : ruleArns } },
    }),
  );
  return dlq;
}

export interface SignInRuleProps {
  readonly securityAccountId: string;
  /** The account's forwarding role (created in us-east-1), by ARN. */
  readonly forwardRoleArn: string;
  readonly dlq: sqs.IQueue;
}

/**
 * The rule `iamwatch-forward-signin` on the default bus of a region other than us-east-1: the
 * console sign-ins delivered in that region (the region of the sign-in endpoint) go to the central
 * bus in us-east-1 (a cross-region bus target, put with the account's forwarding role).
 */
export function signInForwardRule(scope: Construct, id: string, props: SignInRuleProps): events.CfnRule {
  return new events.CfnRule(scope, id, {
    name: SIGNIN_FORWARD_RULE_NAME,
    description: 'iamwatch: forward console sign-in events of this region to the central bus in us-east-1',
    eventBusName: 'default',
    state: 'ENABLED',
    eventPattern: SIGNIN_EVENT_PATTERN,
    targets: [
      {
        id: 'central-bus',
        arn: busArn(props.securityAccountId),
        roleArn: props.forwardRoleArn,
        retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 24 * 3600 },
        deadLetterConfig: { arn: props.dlq.queueArn },
      },
    ],
  });
}

/**
 * What iamwatch needs in a monitored account: the default-bus rule that forwards the in-scope IAM
 * events (and the sign-ins delivered in us-east-1) to the central bus (with a dead-letter queue for
 * what it cannot deliver), the role `iamwatch-forward` EventBridge uses for that and for the
 * sign-in rules of the other regions, the `iamwatch-member` role the detect function assumes for
 * enrichment and for filing findings in this account, and the `iamwatch-writeback` role the
 * ticket function assumes to write the ticket key back on a finding. With the region conditions
 * (StackSet template), the same template also makes the sign-in rule of every other region.
 *
 * Account-agnostic (pseudo parameters only), so one template serves every account of the StackSet.
 */
export class MemberResources extends Construct {
  public readonly memberRole: iam.Role;
  public readonly writebackRole: iam.Role;
  public readonly forwardRule: events.CfnRule;
  public readonly forwardRole: iam.Role;
  public readonly forwardDlq: sqs.Queue;
  /** The sign-in rule of the regions other than us-east-1 (StackSet template only). */
  public readonly signInRule?: events.CfnRule;

  constructor(scope: Construct, id: string, props: MemberResourcesProps) {
    super(scope, id);
    const centralBusArn = busArn(props.securityAccountId);
    const account = Stack.of(this).account;
    const region = Stack.of(this).region;
    // Built from the names, not the rules' attributes: the rules refer to the role. The IAM rule
    // is in us-east-1; the sign-in rules are in the other sign-in regions.
    const forwardRuleArn = ruleArn(REGION, account, FORWARD_RULE_NAME);
    const signInRuleArns = props.signinRegions.filter((r) => r !== REGION).map((r) => ruleArn(r, account, SIGNIN_FORWARD_RULE_NAME));

    this.forwardRole = new iam.Role(this, 'ForwardRole', {
      roleName: FORWARD_ROLE_NAME,
      description: 'Lets EventBridge put the in-scope IAM and sign-in events on the central iamwatch bus',
      // Only for the forwarding rules of this account (confused deputy).
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceArn': signInRuleArns.length === 0 ? forwardRuleArn : [forwardRuleArn, ...signInRuleArns],
            'aws:SourceAccount': account,
          },
        },
      }),
      inlinePolicies: {
        'put-central-bus': new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [centralBusArn] })],
        }),
      },
    });

    // One DLQ per region: in us-east-1 that of the IAM rule, elsewhere that of the sign-in rule.
    this.forwardDlq = forwardTargetDlq(
      this,
      'ForwardTargetDlq',
      props.signInRegionsOnly === undefined
        ? [ruleArn(region, account, FORWARD_RULE_NAME)]
        : [ruleArn(region, account, FORWARD_RULE_NAME), ruleArn(region, account, SIGNIN_FORWARD_RULE_NAME)],
    );

    // L1: the L2 rule would want an IEventBus object for a bus in another account.
    this.forwardRule = new events.CfnRule(this, 'ForwardRule', {
      name: FORWARD_RULE_NAME,
      description: 'iamwatch: forward in-scope IAM CloudTrail events (and the sign-ins of us-east-1) to the central bus',
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

    if (props.signInRegionsOnly !== undefined) {
      this.signInRule = signInForwardRule(this, 'SignInForwardRule', {
        securityAccountId: props.securityAccountId,
        forwardRoleArn: roleArn(account, FORWARD_ROLE_NAME),
        dlq: this.forwardDlq,
      });
      this.signInRule.cfnOptions.condition = props.signInRegionsOnly;
    }

    this.memberRole = new iam.Role(this, 'MemberRole', {
      roleName: MEMBER_ROLE_NAME,
      description: 'iamwatch: IAM reads for enrichment and the daily inventory, Security Hub filing of iamwatch findings',
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
              sid: 'InventoryAccountReads',
              actions: MEMBER_ACCOUNT_READ_ACTIONS,
              resources: ['*'],
            }),
            new iam.PolicyStatement({
              sid: 'InventoryPolicyReads',
              actions: MEMBER_POLICY_READ_ACTIONS,
              resources: ['arn:aws:iam::aws:policy/*', `arn:aws:iam::${account}:policy/*`],
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

    // The daily inventory sweeps the account through the same role.
    this.memberRole.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        principals: [new iam.ArnPrincipal(roleArn(props.securityAccountId, INVENTORY_ROLE_NAME))],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.orgId } },
      }),
    );

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
    onlyIf(props.homeRegionOnly, this.forwardRole, this.forwardRule, this.memberRole, this.writebackRole);
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
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'GenerateCredentialReport, GetCredentialReport, ListUsers and GetAccountAuthorizationDetails are account-wide and accept no resource but *; read-only (the report is generated, not changed).',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:aws:iam::aws:policy/*]',
        reason: 'The sweep reads whichever AWS managed policy a user or group has attached to decide whether it grants admin; read-only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:iam::${nagAccount}:policy/*]`,
        reason: 'The sweep reads whichever customer managed policy of the account a user or group has attached to decide whether it grants admin; read-only.',
      },
    );
  }
}

export interface MemberStackProps extends StackProps {
  readonly orgId: string;
  readonly securityAccountId: string;
  readonly signinRegions: readonly string[];
}

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
      description: 'iamwatch member account: IAM and sign-in event forwarding to the central bus, the iamwatch-member and iamwatch-writeback roles',
    });
    // One template for every region of the StackSet: the global parts (roles) and the IAM rule in
    // us-east-1, the sign-in rule in the other regions, a dead-letter queue in each.
    const homeRegion = new CfnCondition(this, 'InHomeRegion', { expression: Fn.conditionEquals(Aws.REGION, REGION) });
    const otherRegion = new CfnCondition(this, 'InOtherSignInRegion', { expression: Fn.conditionNot(homeRegion) });
    this.resources = new MemberResources(this, 'Member', { ...props, homeRegionOnly: homeRegion, signInRegionsOnly: otherRegion });
  }
}

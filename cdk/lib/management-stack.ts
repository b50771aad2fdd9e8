import { BootstraplessSynthesizer, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IamwatchConfig } from './config';
import { MemberResources, forwardTargetDlq, signInForwardRule } from './member-stack';
import { Alarms } from './constructs/alarms';
import { ServiceControlPolicies } from './constructs/service-control-policies';
import { StackSetAlerts } from './constructs/stackset-alerts';
import { DETECT_ROLE_NAME, FORWARD_ROLE_NAME, INVENTORY_ROLE_NAME, ORG_READER_ROLE_NAME, SIGNIN_FORWARD_RULE_NAME, roleArn } from './names';

/** Organizations reads for enrichment (docs/contracts.md, "Roles"). */
export const ORG_READER_ACTIONS = [
  'organizations:DescribeOrganization',
  'organizations:DescribeAccount',
  'organizations:ListAccounts',
  'organizations:ListParents',
  'organizations:DescribeOrganizationalUnit',
  'organizations:ListTagsForResource',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListAccountsForParent',
];

export interface ManagementStackProps extends StackProps {
  readonly config: IamwatchConfig;
}

/**
 * The management account's part: the `iamwatch-org-reader` role, and (service-managed StackSets
 * never deploy to the management account) the member resources, so that IAM changes there are
 * watched too. Synthesized without bootstrap resources: deploying it needs no `cdk bootstrap` of
 * the management account.
 */
export class ManagementStack extends Stack {
  public readonly orgReaderRole: iam.Role;
  public readonly member?: MemberResources;
  /** The management account's alarm topic: failures of the member StackSet (which lives here). */
  public readonly alarms: Alarms;
  public readonly stackSetAlerts: StackSetAlerts;
  public readonly scps: ServiceControlPolicies;

  constructor(scope: Construct, id: string, props: ManagementStackProps) {
    super(scope, id, {
      description: 'iamwatch management account: iamwatch-org-reader role (and member resources)',
      synthesizer: new BootstraplessSynthesizer(),
      ...props,
    });
    const { config } = props;

    this.orgReaderRole = new iam.Role(this, 'OrgReaderRole', {
      roleName: ORG_READER_ROLE_NAME,
      description: 'iamwatch: Organizations reads (account names, OU paths, tags) for the detect and inventory functions',
      assumedBy: new iam.PrincipalWithConditions(
        new iam.ArnPrincipal(roleArn(config.securityAccountId, DETECT_ROLE_NAME)),
        { StringEquals: { 'aws:PrincipalOrgID': config.orgId } },
      ),
      inlinePolicies: {
        'iamwatch-org-reader': new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ sid: 'OrganizationsReads', actions: ORG_READER_ACTIONS, resources: ['*'] })],
        }),
      },
    });
    // The daily inventory lists the organization's accounts through the same role.
    this.orgReaderRole.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        principals: [new iam.ArnPrincipal(roleArn(config.securityAccountId, INVENTORY_ROLE_NAME))],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': config.orgId } },
      }),
    );
    Validations.of(this.orgReaderRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'DescribeOrganization, ListAccounts and ListRoots accept no resource but *; all actions are read-only Organizations describes/lists.',
    });

    if (config.monitorManagementAccount) {
      this.member = new MemberResources(this, 'Member', {
        orgId: config.orgId,
        securityAccountId: config.securityAccountId,
        signinRegions: config.signinRegions,
      });
    }

    this.alarms = new Alarms(this, 'Alarms', { alarmEmail: config.alarmEmail });
    this.stackSetAlerts = new StackSetAlerts(this, 'StackSetAlerts', { alarms: this.alarms });
    this.scps = new ServiceControlPolicies(this, 'ServiceControlPolicies', {
      securityAccountId: config.securityAccountId,
      protectTargets: config.protectionScp ? config.targetOus : [],
      guardrailOus: config.guardrailOus,
      breakGlassRoles: config.breakGlassRoles,
    });
  }
}

export interface ManagementSignInStackProps extends StackProps {
  readonly config: IamwatchConfig;
}

/**
 * The management account's sign-in forwarding in one region other than us-east-1 (one stack per
 * region of `iamwatch:signinRegions`; StackSets skip the management account): the rule
 * `iamwatch-forward-signin` and its dead-letter queue. The rule uses the forwarding role of
 * `IamwatchManagement` (IAM is global: one role per account), which is deployed first.
 */
export class ManagementSignInStack extends Stack {
  public readonly rule: events.CfnRule;
  public readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: ManagementSignInStackProps) {
    super(scope, id, {
      description: 'iamwatch management account: console sign-in events of this region to the central bus',
      synthesizer: new BootstraplessSynthesizer(),
      ...props,
    });
    const { config } = props;
    this.dlq = forwardTargetDlq(this, 'ForwardTargetDlq', [`arn:aws:events:${this.region}:${this.account}:rule/${SIGNIN_FORWARD_RULE_NAME}`]);
    this.rule = signInForwardRule(this, 'SignInForwardRule', {
      securityAccountId: config.securityAccountId,
      forwardRoleArn: roleArn(config.managementAccountId, FORWARD_ROLE_NAME),
      dlq: this.dlq,
    });
  }
}

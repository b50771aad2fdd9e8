import { BootstraplessSynthesizer, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  DETECT_ROLE_NAME,
  FORWARD_RULE_NAME,
  FORWARDED_EVENT_PATTERN,
  MEMBER_ROLE_NAME,
  TICKET_ROLE_NAME,
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

/** Security Hub calls on the account's own findings (docs/contracts.md, "Roles"). */
export const MEMBER_SECURITYHUB_IMPORT_ACTIONS = ['securityhub:BatchImportFindings'];
export const MEMBER_SECURITYHUB_HUB_ACTIONS = ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'];

export interface MemberResourcesProps {
  readonly orgId: string;
  readonly securityAccountId: string;
}

/**
 * What iamwatch needs in a monitored account: the default-bus rule that forwards the in-scope IAM
 * events to the central bus, the role EventBridge uses for that, and the `iamwatch-member` role the
 * functions assume for enrichment and for filing findings in this account.
 *
 * Account-agnostic (pseudo parameters only), so one template serves every account of the StackSet.
 */
export class MemberResources extends Construct {
  public readonly memberRole: iam.Role;
  public readonly forwardRule: events.CfnRule;
  public readonly forwardRole: iam.Role;

  constructor(scope: Construct, id: string, props: MemberResourcesProps) {
    super(scope, id);
    const centralBusArn = busArn(props.securityAccountId);

    this.forwardRole = new iam.Role(this, 'ForwardRole', {
      description: 'Lets EventBridge put the in-scope IAM events on the central iamwatch bus',
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      inlinePolicies: {
        'put-central-bus': new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [centralBusArn] })],
        }),
      },
    });

    // L1: the L2 rule would want an IEventBus object for a bus in another account.
    this.forwardRule = new events.CfnRule(this, 'ForwardRule', {
      name: FORWARD_RULE_NAME,
      description: 'iamwatch: forward in-scope IAM CloudTrail events to the central bus',
      eventBusName: 'default',
      state: 'ENABLED',
      eventPattern: FORWARDED_EVENT_PATTERN,
      targets: [{ id: 'central-bus', arn: centralBusArn, roleArn: this.forwardRole.roleArn }],
    });

    const account = Stack.of(this).account;
    const region = Stack.of(this).region;
    this.memberRole = new iam.Role(this, 'MemberRole', {
      roleName: MEMBER_ROLE_NAME,
      description: 'iamwatch: IAM reads for enrichment and Security Hub filing of iamwatch findings',
      assumedBy: new iam.PrincipalWithConditions(
        new iam.CompositePrincipal(
          new iam.ArnPrincipal(roleArn(props.securityAccountId, DETECT_ROLE_NAME)),
          new iam.ArnPrincipal(roleArn(props.securityAccountId, TICKET_ROLE_NAME)),
        ),
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
              actions: MEMBER_SECURITYHUB_HUB_ACTIONS,
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
      description: 'iamwatch member account: IAM event forwarding to the central bus and the iamwatch-member role',
    });
    this.resources = new MemberResources(this, 'Member', props);
  }
}

/**
 * The service control policies of the management stack, as plain policy documents (so that tests
 * and the policy linter read exactly what Organizations gets):
 *
 * - `iamwatch-protect` (`iamwatch:protectionScp`, attached to the target OUs): nobody may change or
 *   delete iamwatch's rules, buses, roles, queues, functions, schedules and stacks but the
 *   StackSet's execution role, the CDK deployment roles of the security account and the
 *   break-glass roles: coverage cannot be switched off from inside a member account.
 * - `iamwatch-no-iam-users` (`iamwatch:guardrailOus`, attached to those OUs): nobody but the
 *   break-glass roles may create an IAM user or any long-lived credential of one.
 */
import { REGION } from './names';

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Deny' | 'Allow';
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: PolicyStatement[];
}

/** The default qualifier of `cdk bootstrap`: the security account's deployment roles carry it. */
export const CDK_QUALIFIER = 'hnb659fds';

/**
 * The roles that create iamwatch's resources: the execution role Organizations creates for
 * service-managed StackSets in every member account (`stacksets-exec-<id>`), and in the security
 * account the CDK roles `cdk deploy` uses (the deploy role drives CloudFormation, the execution
 * role creates the resources).
 */
export function deploymentRoleArns(securityAccountId: string): string[] {
  return [
    'arn:aws:iam::*:role/stacksets-exec-*',
    `arn:aws:iam::${securityAccountId}:role/cdk-${CDK_QUALIFIER}-cfn-exec-role-${securityAccountId}-${REGION}`,
    `arn:aws:iam::${securityAccountId}:role/cdk-${CDK_QUALIFIER}-deploy-role-${securityAccountId}-${REGION}`,
  ];
}

/** The break-glass roles (names, path allowed, `*` globs) in every account, as principal ARN patterns. */
export function breakGlassArns(roleNames: readonly string[]): string[] {
  return roleNames.map((name) => `arn:aws:iam::*:role/${name}`);
}

/** IAM calls that change a role (or make one). */
export const ROLE_CHANGE_ACTIONS = [
  'iam:AttachRolePolicy',
  'iam:CreateRole',
  'iam:DeleteRole',
  'iam:DeleteRolePermissionsBoundary',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:PutRolePolicy',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
];

/**
 * EventBridge calls that change or delete a rule or a bus. (`events:PutPermission` and
 * `RemovePermission`, which change a bus's policy, take no resource: denying them would deny them
 * on every bus of the account.)
 */
export const RULE_CHANGE_ACTIONS = [
  'events:DeleteEventBus',
  'events:DeleteRule',
  'events:DisableRule',
  'events:PutRule',
  'events:PutTargets',
  'events:RemoveTargets',
  'events:UpdateEventBus',
];

/** CloudFormation calls that change or delete a stack, a StackSet or its instances. */
export const STACK_CHANGE_ACTIONS = [
  'cloudformation:CancelUpdateStack',
  'cloudformation:ContinueUpdateRollback',
  'cloudformation:CreateChangeSet',
  'cloudformation:DeleteStack',
  'cloudformation:DeleteStackInstances',
  'cloudformation:DeleteStackSet',
  'cloudformation:ExecuteChangeSet',
  'cloudformation:RollbackStack',
  'cloudformation:SetStackPolicy',
  'cloudformation:StopStackSetOperation',
  'cloudformation:UpdateStack',
  'cloudformation:UpdateStackInstances',
  'cloudformation:UpdateStackSet',
  'cloudformation:UpdateTerminationProtection',
];

/** What else keeps events flowing: the queues, the functions and their mappings, the schedule. */
export const PIPELINE_CHANGE_ACTIONS = [
  'lambda:DeleteFunction',
  'lambda:PutFunctionConcurrency',
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'scheduler:DeleteSchedule',
  'scheduler:DeleteScheduleGroup',
  'scheduler:UpdateSchedule',
  'sqs:DeleteQueue',
  'sqs:PurgeQueue',
  'sqs:RemovePermission',
  'sqs:SetQueueAttributes',
];

/** Lambda calls on an event source mapping (its resource is the mapping, not the function). */
export const MAPPING_CHANGE_ACTIONS = ['lambda:DeleteEventSourceMapping', 'lambda:UpdateEventSourceMapping'];

/**
 * `iamwatch-protect`: deny, to everyone but the deployment roles and the break-glass roles,
 * changing or deleting what iamwatch consists of. Every name is iamwatch's own (`iamwatch-*`,
 * the buses `iamwatch` and `iamwatch-findings`, the schedule group `iamwatch`, the stacks
 * `Iamwatch*` and the StackSet `iamwatch-member` with its instances `StackSet-iamwatch-member-*`).
 * The `stacksets-exec-*` roles are protected too: a principal that could change their trust
 * policy could act as the StackSet.
 */
export function protectionScp(securityAccountId: string, breakGlassRoles: readonly string[]): PolicyDocument {
  const exempt = { ArnNotLike: { 'aws:PrincipalArn': [...deploymentRoleArns(securityAccountId), ...breakGlassArns(breakGlassRoles)] } };
  // One statement for all of it: an action applies only to resources of its own type, so one list
  // of actions and one of resources deny exactly what separate statements would, and the
  // exemption list (the long part) is written twice instead of five times.
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'IamwatchResources',
        Effect: 'Deny',
        Action: [...ROLE_CHANGE_ACTIONS, ...RULE_CHANGE_ACTIONS, ...STACK_CHANGE_ACTIONS, ...PIPELINE_CHANGE_ACTIONS],
        Resource: [
          'arn:aws:iam::*:role/iamwatch-*',
          'arn:aws:iam::*:role/stacksets-exec-*',
          'arn:aws:events:*:*:rule/iamwatch-*',
          'arn:aws:events:*:*:rule/iamwatch/*',
          'arn:aws:events:*:*:rule/iamwatch-findings/*',
          'arn:aws:events:*:*:event-bus/iamwatch',
          'arn:aws:events:*:*:event-bus/iamwatch-findings',
          'arn:aws:cloudformation:*:*:stack/StackSet-iamwatch-member-*/*',
          'arn:aws:cloudformation:*:*:stack/Iamwatch*/*',
          'arn:aws:cloudformation:*:*:stackset/iamwatch-member:*',
          'arn:aws:cloudformation:*:*:stackset-target/iamwatch-member:*',
          'arn:aws:sqs:*:*:iamwatch-*',
          'arn:aws:lambda:*:*:function:iamwatch-*',
          'arn:aws:scheduler:*:*:schedule/iamwatch/*',
          'arn:aws:scheduler:*:*:schedule-group/iamwatch',
        ],
        Condition: exempt,
      },
      {
        Sid: 'IamwatchMappings',
        Effect: 'Deny',
        Action: MAPPING_CHANGE_ACTIONS,
        Resource: '*',
        Condition: { ...exempt, ArnLike: { 'lambda:FunctionArn': 'arn:aws:lambda:*:*:function:iamwatch-*' } },
      },
    ],
  };
}

/**
 * The IAM calls that make an IAM user or a long-lived credential of one: the user, access keys, a
 * console password (new or changed), service-specific credentials (CodeCommit, Keyspaces, Bedrock
 * API keys), SSH public keys (CodeCommit) and X.509 signing certificates.
 */
export const CREDENTIAL_ACTIONS = [
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:CreateServiceSpecificCredential',
  'iam:CreateUser',
  'iam:ResetServiceSpecificCredential',
  'iam:UpdateLoginProfile',
  'iam:UploadSSHPublicKey',
  'iam:UploadSigningCertificate',
];

/** `iamwatch-no-iam-users`: deny the credential-making IAM calls to everyone but the break-glass roles. */
export function guardrailScp(breakGlassRoles: readonly string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'NoIamUserCredentials',
        Effect: 'Deny',
        Action: CREDENTIAL_ACTIONS,
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': breakGlassArns(breakGlassRoles) } },
      },
    ],
  };
}

/** The document as Organizations stores it: compact JSON (its length is what the 5,120 limit counts). */
export function policyText(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}

import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** `sts:AssumeRole` on a role name in any account of the organization, nothing else. */
export function grantAssumeRoleInOrg(role: iam.Role, orgId: string, roleName: string, sid: string): void {
  const rolePattern = `arn:aws:iam::*:role/${roleName}`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['sts:AssumeRole'],
      resources: [rolePattern],
      conditions: { StringEquals: { 'aws:ResourceOrgID': orgId } },
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${rolePattern}]`,
    reason: 'The account is any account of the organization (new ones included); the role name is fixed and aws:ResourceOrgID limits it to the org.',
  });
}

/** What a function may do on the security account's own Security Hub. */
export interface OwnSecurityHubAccess {
  /** `BatchImportFindings` under the account's default product (fallback filing). */
  readonly importFindings?: boolean;
  /** `GetFindings` (the findings a resolving event ends). */
  readonly readFindings?: boolean;
  /** `BatchUpdateFindings` (the ticket key written back). */
  readonly updateFindings?: boolean;
}

/** Security Hub on the security account's own hub: findings filed there as a fallback. */
export function grantOwnSecurityHub(role: iam.Role, access: OwnSecurityHubAccess): void {
  const { account, region } = Stack.of(role);
  if (access.importFindings) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubImportHere',
        actions: ['securityhub:BatchImportFindings'],
        resources: [`arn:aws:securityhub:${region}:${account}:product/${account}/default`],
      }),
    );
  }
  const hubActions = [
    ...(access.updateFindings ? ['securityhub:BatchUpdateFindings'] : []),
    ...(access.readFindings ? ['securityhub:GetFindings'] : []),
  ];
  if (hubActions.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubFindingsHere',
        actions: hubActions,
        resources: [`arn:aws:securityhub:${region}:${account}:hub/default`],
      }),
    );
  }
}

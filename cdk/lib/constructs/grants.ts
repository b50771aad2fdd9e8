import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MEMBER_ROLE_NAME } from '../names';

/** `sts:AssumeRole` on a role name in any account of the organization, nothing else. */
export function grantAssumeMemberRole(role: iam.Role, orgId: string, roleName: string = MEMBER_ROLE_NAME, sid = 'AssumeMemberRoleInOrg'): void {
  const memberRolePattern = `arn:aws:iam::*:role/${roleName}`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['sts:AssumeRole'],
      resources: [memberRolePattern],
      conditions: { StringEquals: { 'aws:ResourceOrgID': orgId } },
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${memberRolePattern}]`,
    reason: 'The account is any account of the organization (new ones included); the role name is fixed and aws:ResourceOrgID limits it to the org.',
  });
}

/** Security Hub on the security account's own hub (fallback filing, ticket key write-back). */
export function grantOwnSecurityHub(role: iam.Role, canImport: boolean): void {
  const { account, region } = Stack.of(role);
  if (canImport) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubImportHere',
        actions: ['securityhub:BatchImportFindings'],
        resources: [`arn:aws:securityhub:${region}:${account}:product/${account}/default`],
      }),
    );
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'SecurityHubFindingsHere',
      actions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
      resources: [`arn:aws:securityhub:${region}:${account}:hub/default`],
    }),
  );
}

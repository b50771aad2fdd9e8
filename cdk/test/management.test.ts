import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ORG_ID, SECURITY_ACCOUNT, allowedActions, onlyResource, statementsOfRole, synth } from './helpers';

/** docs/contracts.md, "Roles": exactly these, nothing more. */
const CONTRACT_ORG_READER_ACTIONS = [
  'organizations:DescribeOrganization',
  'organizations:DescribeAccount',
  'organizations:ListAccounts',
  'organizations:ListParents',
  'organizations:DescribeOrganizationalUnit',
  'organizations:ListTagsForResource',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListAccountsForParent',
].sort();

const built = synth();
const t = built.managementTemplate;

describe('management stack', () => {
  const [roleId, role] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-org-reader' });

  test('iamwatch-org-reader is trusted only by the detect and inventory roles of the security account, within the org', () => {
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-detect`, `arn:aws:iam::${SECURITY_ACCOUNT}:role/iamwatch-inventory`] },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
      },
    ]);
  });

  test('iamwatch-org-reader is allowed exactly the Organizations reads of docs/contracts.md', () => {
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
    assert.deepEqual(allowedActions(t, roleId), CONTRACT_ORG_READER_ACTIONS);
    assert.ok(statementsOfRole(t, roleId).every((s) => s.Effect === 'Allow'));
  });

  test('is pinned to the management account in us-east-1, deployed after the central stack, without bootstrap', () => {
    assert.equal(built.management.account, '444455556666');
    assert.equal(built.management.region, 'us-east-1');
    assert.ok(built.management.dependencies.includes(built.central));
    assert.equal(t.toJSON().Parameters, undefined, 'no BootstrapVersion parameter: cdk bootstrap is not needed there');
  });

  test('watches the management account too (member resources), unless turned off', () => {
    onlyResource(t, 'AWS::Events::Rule', { Name: 'iamwatch-forward' });
    onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-member' });
    const off = synth({ 'iamwatch:monitorManagementAccount': false }).managementTemplate;
    // What remains: the StackSet failure rule and the org-reader role (and the rule's own role).
    assert.deepEqual(Object.values(off.findResources('AWS::Events::Rule')).map((r: any) => r.Properties.Name), ['iamwatch-stackset-failures']);
    assert.deepEqual(Object.values(off.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.RoleName).filter((n) => n !== undefined), ['iamwatch-org-reader']);
  });
});

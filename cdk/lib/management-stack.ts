import { BootstraplessSynthesizer, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { IamwatchConfig } from './config';
import { MemberResources } from './member-stack';
import { DETECT_ROLE_NAME, ORG_READER_ROLE_NAME, roleArn } from './names';

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

  constructor(scope: Construct, id: string, props: ManagementStackProps) {
    super(scope, id, {
      description: 'iamwatch management account: iamwatch-org-reader role (and member resources)',
      synthesizer: new BootstraplessSynthesizer(),
      ...props,
    });
    const { config } = props;

    this.orgReaderRole = new iam.Role(this, 'OrgReaderRole', {
      roleName: ORG_READER_ROLE_NAME,
      description: 'iamwatch: Organizations reads (account names, OU paths, tags) for the detect function',
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
    Validations.of(this.orgReaderRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'DescribeOrganization, ListAccounts and ListRoots accept no resource but *; all actions are read-only Organizations describes/lists.',
    });

    if (config.monitorManagementAccount) {
      this.member = new MemberResources(this, 'Member', {
        orgId: config.orgId,
        securityAccountId: config.securityAccountId,
      });
    }
  }
}

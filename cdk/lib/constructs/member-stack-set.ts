import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct, IConstruct } from 'constructs';
import { REGION, STACK_SET_NAME } from '../names';
import { Group } from './group';

export interface MemberStackSetProps {
  /** OUs (or the root) the StackSet auto-deploys to. */
  readonly targetOus: string[];
  /** Regions of the stack instances (us-east-1 among them): `iamwatch:signinRegions`. */
  readonly regions: string[];
  /** The member accounts' template (synthesized by MemberStack). */
  readonly templateBody: string;
  /** Roles the member template trusts by ARN (IAM rejects a trust policy naming a missing role), and the bus it forwards to. */
  readonly dependsOn: IConstruct[];
}

/**
 * Trust zone "the security account deploys into the organization": the service-managed StackSet
 * that puts the member resources (forwarding rule, iamwatch-member) into every account of the
 * target OUs, accounts that join later included.
 */
export class MemberStackSet extends Group {
  public readonly stackSet: cloudformation.CfnStackSet;

  constructor(scope: Construct, id: string, props: MemberStackSetProps) {
    super(scope, id);
    this.stackSet = new cloudformation.CfnStackSet(this, 'MemberStackSet', {
      stackSetName: STACK_SET_NAME,
      description: 'iamwatch member accounts: forward IAM and sign-in events to the central bus; iamwatch-member role',
      permissionModel: 'SERVICE_MANAGED',
      callAs: 'DELEGATED_ADMIN',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      // No account may fail silently: a failed instance stops the operation (and its alarm fires).
      // us-east-1 first: its instance creates the forwarding role the other regions' sign-in rules use.
      operationPreferences: {
        failureToleranceCount: 0,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'SEQUENTIAL',
        regionOrder: [REGION, ...props.regions.filter((r) => r !== REGION)],
      },
      stackInstancesGroup: [
        { regions: props.regions, deploymentTargets: { organizationalUnitIds: props.targetOus } },
      ],
      templateBody: props.templateBody,
    });
    this.stackSet.node.addDependency(...props.dependsOn);
  }
}

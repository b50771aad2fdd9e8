import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import { GUARDRAIL_SCP_NAME, PROTECT_SCP_NAME, SCP_MAX_CHARS } from '../names';
import { PolicyDocument, guardrailScp, policyText, protectionScp } from '../scps';

export interface ServiceControlPoliciesProps {
  readonly securityAccountId: string;
  /** Attach `iamwatch-protect` to these (the target OUs); none: no protection policy. */
  readonly protectTargets: readonly string[];
  /** Attach `iamwatch-no-iam-users` to these OUs; none: no guardrail. */
  readonly guardrailOus: readonly string[];
  readonly breakGlassRoles: readonly string[];
}

/**
 * The optional service control policies, created and attached from the management account
 * (`AWS::Organizations::Policy`): `iamwatch-protect` and `iamwatch-no-iam-users` (lib/scps.ts).
 * Synthesis fails when a document is over Organizations' 5,120 characters.
 */
export class ServiceControlPolicies extends Construct {
  public readonly protect?: organizations.CfnPolicy;
  public readonly guardrail?: organizations.CfnPolicy;

  constructor(scope: Construct, id: string, props: ServiceControlPoliciesProps) {
    super(scope, id);
    if (props.protectTargets.length > 0) {
      this.protect = scp(this, 'ProtectScp', PROTECT_SCP_NAME,
        'iamwatch: only the StackSet, the CDK deployment roles and the break-glass roles may change or delete iamwatch rules, roles, queues, functions and stacks',
        protectionScp(props.securityAccountId, props.breakGlassRoles), props.protectTargets);
    }
    if (props.guardrailOus.length > 0) {
      this.guardrail = scp(this, 'GuardrailScp', GUARDRAIL_SCP_NAME,
        'iamwatch: no IAM users, access keys, console passwords or other long-lived IAM user credentials, except by the break-glass roles',
        guardrailScp(props.breakGlassRoles), props.guardrailOus);
    }
  }
}

function scp(scope: Construct, id: string, name: string, description: string, doc: PolicyDocument, targets: readonly string[]): organizations.CfnPolicy {
  const text = policyText(doc);
  if (text.length > SCP_MAX_CHARS) {
    throw new Error(`service control policy ${name} is ${text.length} characters, over the ${SCP_MAX_CHARS} Organizations accepts: name fewer break-glass roles`);
  }
  return new organizations.CfnPolicy(scope, id, {
    name,
    description,
    type: 'SERVICE_CONTROL_POLICY',
    // CloudFormation takes the document as an object and hands Organizations its JSON text.
    content: JSON.parse(text),
    targetIds: [...targets],
  });
}

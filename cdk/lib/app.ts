import { App, Lazy, Stage } from 'aws-cdk-lib';
import { IamwatchConfig } from './config';
import { CentralStack } from './central-stack';
import { ManagementSignInStack, ManagementStack } from './management-stack';
import { MemberStack } from './member-stack';
import { REGION } from './names';

export interface IamwatchApp {
  readonly central: CentralStack;
  readonly management: ManagementStack;
  /** The management account's sign-in forwarding in each sign-in region but us-east-1, by region. */
  readonly managementSignIn: Map<string, ManagementSignInStack>;
  /** Stage holding the member template; not deployed by `cdk deploy`, the StackSet deploys it. */
  readonly memberStage: Stage;
  readonly member: MemberStack;
}

/** StackSet template bodies are limited to 51,200 bytes. */
export const TEMPLATE_BODY_LIMIT = 51_200;

/**
 * The stacks of iamwatch:
 * - `IamwatchCentral` in the security account (bus, queues, functions, alarms, member StackSet),
 * - `IamwatchManagement` in the management account (org-reader role, member resources),
 * - `IamwatchManagementSignIn-<region>` there too, the sign-in rule of each other sign-in region,
 * - `MemberAccounts/IamwatchMember`, the member template, synthesized in its own stage so that it
 *   is checked (cdk-nag, cfn-lint) like the others and embedded in the StackSet.
 */
export function buildIamwatchApp(app: App, config: IamwatchConfig): IamwatchApp {
  const memberStage = new Stage(app, 'MemberAccounts');
  const member = new MemberStack(memberStage, 'IamwatchMember', {
    orgId: config.orgId,
    securityAccountId: config.securityAccountId,
    signinRegions: config.signinRegions,
  });
  // The nested stage is synthesized before the app's own stacks, so by the time this is resolved
  // the member template is on disk.
  const memberTemplateBody = Lazy.string({
    produce: () => {
      const body = JSON.stringify(memberStage.synth().getStackArtifact(member.artifactId).template);
      if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
        throw new Error(`member template is ${Buffer.byteLength(body)} bytes, over the StackSet TemplateBody limit of ${TEMPLATE_BODY_LIMIT}`);
      }
      return body;
    },
  });

  const central = new CentralStack(app, 'IamwatchCentral', {
    env: { account: config.securityAccountId, region: REGION },
    config,
    memberTemplateBody,
  });
  const management = new ManagementStack(app, 'IamwatchManagement', {
    env: { account: config.managementAccountId, region: REGION },
    config,
  });
  // The org-reader role trusts the detect role by ARN: the role must exist first.
  management.addStackDependency(central, 'iamwatch-org-reader trusts the detect role of the security account');

  const managementSignIn = new Map<string, ManagementSignInStack>();
  if (config.monitorManagementAccount) {
    for (const region of config.signinRegions.filter((r) => r !== REGION)) {
      const stack = new ManagementSignInStack(app, `IamwatchManagementSignIn-${region}`, {
        env: { account: config.managementAccountId, region },
        config,
      });
      stack.addStackDependency(management, 'the sign-in rule puts events with the forwarding role of IamwatchManagement');
      managementSignIn.set(region, stack);
    }
  }
  return { central, management, managementSignIn, memberStage, member };
}

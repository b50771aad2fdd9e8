import { Stack, Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct, IConstruct } from 'constructs';
import { RUNBOOK_KEY_PREFIX, hostedRunbookBaseUrl, runbookBucketName } from '../names';
import { RUNBOOKS_DIR, renderRunbooks } from '../runbooks';
import { Group } from './group';

export interface RunbookHostingProps {
  /** Only principals of this organization may read the runbooks. */
  readonly orgId: string;
  /** The runbooks folder (default: the repository's runbooks/). */
  readonly runbooksDir?: string;
}

/**
 * Trust zone "the security account serves the organization its runbooks" (`iamwatch:runbookHosting`):
 * runbooks/*.md rendered to HTML at synthesis, in a private, encrypted, TLS-only bucket that only
 * principals of the organization may read (`s3:GetObject` under `runbooks/`, `aws:PrincipalOrgID`),
 * linked through the S3 console's object view: a responder signed in to any account of the
 * organization opens it there ("Open" shows the page). No public access, no website endpoint.
 */
export class RunbookHosting extends Group {
  public readonly bucket: s3.Bucket;
  public readonly deployment: s3deploy.BucketDeployment;
  /** What the detect function links runbooks under (`<base>/<rule-id>.md`). */
  public readonly baseUrl: string;
  /** The runbook files rendered, sorted. */
  public readonly files: string[];

  constructor(scope: Construct, id: string, props: RunbookHostingProps) {
    super(scope, id);
    const bucketName = runbookBucketName(Stack.of(this).account);
    this.baseUrl = hostedRunbookBaseUrl(bucketName);

    this.bucket = new s3.Bucket(this, 'RunbookBucket', {
      bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
    });
    // A policy granting only to the organization's principals is not public for S3, so
    // BlockPublicAccess (RestrictPublicBuckets) leaves it in force.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'iamwatch-org-reads-runbooks',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${RUNBOOK_KEY_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': props.orgId } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds the rendered runbooks of the repository, nothing confidential to the organization; reads are recorded by CloudTrail S3 data events where the organization enables them.',
    });

    const hostedUrl = (file: string) => `${this.baseUrl.replace(/\/+$/, '')}/${file}`;
    const rendered = renderRunbooks(props.runbooksDir ?? RUNBOOKS_DIR, Stage.of(this)!.outdir, hostedUrl);
    this.files = rendered.files;
    this.deployment = new s3deploy.BucketDeployment(this, 'RunbookDeployment', {
      sources: [s3deploy.Source.asset(rendered.dir)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: RUNBOOK_KEY_PREFIX,
      // Each object keeps its runbook's name (<rule-id>.md, what findings link) and holds HTML.
      contentType: 'text/html; charset=utf-8',
      cacheControl: [s3deploy.CacheControl.noCache()],
      prune: true,
      retainOnDelete: false,
    });
    acknowledgeDeploymentHandler(this.deployment, this.bucket);
  }
}

/**
 * cdk-nag's findings on the handler that BucketDeployment creates once per stack (a singleton
 * function at the stack's top level): it is aws-cdk-lib's own code, its role and runtime are
 * set there, and it only copies the asset into the runbook bucket at deployment time.
 */
function acknowledgeDeploymentHandler(deployment: s3deploy.BucketDeployment, bucket: s3.Bucket): void {
  const stack = Stack.of(deployment);
  const handler: IConstruct | undefined = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (handler === undefined) throw new Error('BucketDeployment created no handler at the top of the stack: check the cdk-nag acknowledgements');
  const bucketLogicalId = stack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId);
  const assets = `arn:aws:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`;
  const why = 'BucketDeployment handler of aws-cdk-lib (copies the rendered runbooks from the CDK asset bucket into the runbook bucket at deployment):';
  Validations.of(handler).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `${why} aws-cdk-lib attaches the basic execution role (its own logs only).`,
    },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${why} aws-cdk-lib grants reads of the asset and runbook buckets only (no other bucket).`,
    })),
    ...['s3:Abort*', 's3:DeleteObject*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${why} aws-cdk-lib grants writes to the runbook bucket only, to replace and prune the pages.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::${assets}]`,
      reason: `${why} the asset's object key is content-addressed and known only at deployment.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
      reason: `${why} it writes every page of the runbook bucket, whose only content they are.`,
    },
    {
      id: 'AwsSolutions-L1',
      reason: `${why} its runtime is chosen by aws-cdk-lib and moves with its upgrades; it runs only during deployments.`,
    },
  );
}

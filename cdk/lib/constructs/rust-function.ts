import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface RustFunctionProps {
  /** Function name, also the name of its execution role (other accounts trust the role by name). */
  readonly functionName: string;
  readonly roleName: string;
  readonly description: string;
  readonly code: lambda.Code;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A Rust Lambda function with iamwatch's defaults: arm64 on `provided.al2023`, an explicit role
 * with no managed policy (logging is granted on its own log group only), a log group with a
 * retention, JSON logs.
 */
export class RustFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RustFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: `Execution role of ${props.functionName}`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      handler: 'bootstrap',
      code: props.code,
      role: this.role,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 256,
      environment: props.environment,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    });
  }
}

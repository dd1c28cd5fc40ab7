import type { Duration, RemovalPolicy } from "aws-cdk-lib";
import { type IVpc, Peer, Port, SecurityGroup, type SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  type IDestination,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { BUNDLE_HANDLER, bundledCode } from "./bundle.js";
import { acknowledge } from "./nag.js";
import { handlerEntry, type LambdaPackage } from "./paths.js";

export const METRICS_NAMESPACE = "Thumbs";

export interface AsyncInvokeOptions {
  retryAttempts: number;
  maxEventAge: Duration;
  /** Where an event goes once its retries run out (or it grows older than maxEventAge). */
  onFailure: IDestination;
}

export interface PipelineFunctionProps {
  pkg: LambdaPackage;
  /**
   * The package.json export whose `source` is the handler (default `./handler`): one package may ship
   * several Lambdas, e.g. the worker's `./dead-letter-handler`.
   */
  handlerExport?: string;
  description: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` field of every log line and metric dimension. */
  serviceName: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
  vpc: IVpc;
  vpcSubnets: SubnetSelection;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  tracing: boolean;
  reservedConcurrentExecutions?: number | undefined;
  /**
   * Native modules (name → exact version): never bundled; installed for linux-arm64 only into a bundle
   * whose code imports them (bundle.ts reads esbuild's metafile), so a function of the worker package
   * that does not import sharp ships without it.
   */
  nativeModules: Record<string, string>;
  asyncInvoke?: AsyncInvokeOptions;
}

/**
 * One of the pipeline's Lambdas with the defaults they all share: Node.js 22 on arm64, an ESM
 * bundle built locally by esbuild from the package's TypeScript source (see bundle.ts), JSON logs
 * (Powertools writes the application's own JSON lines and EMF metrics) in a log group with
 * a retention, its own role that starts with nothing but its own log group and the VPC network
 * interfaces, and its own security group that reaches only HTTPS (the VPC endpoints) until a
 * dependency admits it.
 */
export class PipelineFunction extends Construct {
  /** The TypeScript source the function's bundle is built from. */
  readonly entry: string;
  readonly fn: LambdaFunction;
  readonly role: Role;
  readonly securityGroup: SecurityGroup;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    this.entry = handlerEntry(props.pkg, props.handlerExport);

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${props.serviceName}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (log writes on "*"): only this function's own log group.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: "OwnLogGroup",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // Instead of AWSLambdaVPCAccessExecutionRole: the same network-interface actions, without its log
    // writes on "*".
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: "VpcNetworkInterfaces",
        actions: [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ],
        resources: ["*"],
      }),
    );
    acknowledge(
      this.role,
      "AwsSolutions-IAM5[Resource::*]",
      "Lambda creates and deletes the function's VPC network interfaces with the execution role, whose " +
        'ids are unknown until then; AWS requires "Resource": "*" for ec2:DescribeNetworkInterfaces and ' +
        "documents this statement (AWSLambdaVPCAccessExecutionRole) as the VPC access policy. " +
        "X-Ray's PutTraceSegments/PutTelemetryRecords (when tracing is on) support no resource either.",
    );

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: `${props.serviceName}: HTTPS to AWS endpoints; Redis once admitted`,
      allowAllOutbound: false,
    });
    // The subnets are isolated (no internet or NAT route), so 443 reaches only the interface endpoints
    // and the S3 gateway endpoint, whose prefix list id is not known to an offline synth.
    this.securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), "HTTPS to VPC endpoints");

    this.fn = new LambdaFunction(this, "Function", {
      code: bundledCode({ entry: this.entry, nativeModules: props.nativeModules }),
      handler: BUNDLE_HANDLER,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.asyncInvoke?.retryAttempts,
      maxEventAge: props.asyncInvoke?.maxEventAge,
      onFailure: props.asyncInvoke?.onFailure,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: "INFO",
        // Stack traces in the logs point into the TypeScript sources, not the minified bundle.
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
    });
    acknowledge(
      this.fn,
      "AwsSolutions-L1",
      "nodejs22.x is the runtime the pipeline is specified and tested on (Lambda supports it until " +
        "Node.js 22 reaches end of life in 2027). Moving to a newer runtime is a deliberate, tested " +
        "change rather than something a new CDK release should make at synth.",
    );
  }
}

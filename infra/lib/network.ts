import type { RemovalPolicy } from "aws-cdk-lib";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type ISecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

export interface NetworkProps {
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  /** Adds the X-Ray endpoint that active tracing needs. */
  tracing: boolean;
}

/**
 * A VPC with private isolated subnets only: no internet gateway, no NAT gateway. The Lambdas reach
 * AWS through endpoints instead: S3 (originals and thumbnails, nearly all the traffic) through a
 * free gateway endpoint, SNS and Secrets Manager through interface endpoints. See README for the
 * cost this saves.
 */
export class Network extends Construct {
  readonly vpc: Vpc;
  readonly subnets: SubnetSelection = { subnetType: SubnetType.PRIVATE_ISOLATED };
  private readonly interfaceEndpoints: InterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    this.vpc = new Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "isolated", subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Every network interface here has its own security group; none joins the default one. Emptying
      // its rules would take a CDK custom-resource Lambda whose role carries a managed logs:* policy
      // on "*", the kind of grant this stack otherwise avoids.
      restrictDefaultSecurityGroup: false,
    });

    // Rejected flows only: the signal worth keeping (something tried to reach what it may not), at a
    // fraction of the ingestion cost of logging every S3 transfer.
    this.vpc.addFlowLog("RejectedFlows", {
      trafficType: FlowLogTrafficType.REJECT,
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, "FlowLogs", { retention: props.logRetention, removalPolicy: props.removalPolicy }),
      ),
    });

    this.vpc.addGatewayEndpoint("S3", {
      service: GatewayVpcEndpointAwsService.S3,
      subnets: [this.subnets],
    });

    const services = [
      ["Sns", InterfaceVpcEndpointAwsService.SNS],
      ["SecretsManager", InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ...(props.tracing ? ([["XRay", InterfaceVpcEndpointAwsService.XRAY]] as const) : []),
    ] as const;
    for (const [name, service] of services) {
      this.interfaceEndpoints.push(
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.subnets,
          privateDnsEnabled: true,
          // Closed by default; each function is admitted by its own security group below.
          open: false,
        }),
      );
    }
  }

  /** Lets a function's security group reach the interface endpoints on 443. */
  admit(securityGroup: ISecurityGroup, description: string): void {
    for (const endpoint of this.interfaceEndpoints) {
      endpoint.connections.allowDefaultPortFrom(securityGroup, description);
    }
  }
}

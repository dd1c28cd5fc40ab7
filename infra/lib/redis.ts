import { type RemovalPolicy, Token } from "aws-cdk-lib";
import {
  type ISecurityGroup,
  type IVpc,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from "aws-cdk-lib/aws-ec2";
import { CfnReplicationGroup, CfnSubnetGroup } from "aws-cdk-lib/aws-elasticache";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { acknowledge } from "./nag.js";

/** Not 6379: a scanner that finds the subnet still has to guess the port (cdk-nag AwsSolutions-AEC5). */
export const REDIS_PORT = 6380;

export interface RedisProps {
  vpc: IVpc;
  subnets: SubnetSelection;
  nodeType: string;
  multiAz: boolean;
  removalPolicy: RemovalPolicy;
}

/**
 * ElastiCache for Redis (a replication group, cluster mode off) holding the order ledger and per-image
 * error records. TLS in transit, encrypted at rest, and an AUTH token generated into Secrets Manager:
 * the Lambdas read it at cold start (REDIS_AUTH_SECRET_ARN), so it never sits in their environment.
 * Its security group admits nothing until a function is admitted.
 */
export class Redis extends Construct {
  readonly authSecret: Secret;
  readonly securityGroup: SecurityGroup;
  /** `rediss://primary-endpoint:port`, the form REDIS_URL takes. */
  readonly url: string;
  readonly endpoint: string;

  constructor(scope: Construct, id: string, props: RedisProps) {
    super(scope, id);

    this.authSecret = new Secret(this, "AuthToken", {
      description: 'ElastiCache AUTH token for the thumbs Redis (JSON: {"password": ...})',
      removalPolicy: props.removalPolicy,
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "password",
        // AUTH tokens are 16-128 printable characters without spaces, quotes, "/" or "@".
        excludePunctuation: true,
        passwordLength: 64,
      },
    });
    acknowledge(
      this.authSecret,
      "AwsSolutions-SMG4",
      "Secrets Manager has no managed rotation for ElastiCache AUTH tokens; rotating means " +
        "ModifyReplicationGroup with AuthTokenUpdateStrategy ROTATE then SET, while the Lambdas pick the " +
        "new token up at their next cold start. README documents the manual rotation.",
    );

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Thumbs Redis: admits only the pipeline Lambdas",
      allowAllOutbound: false,
    });

    const subnetGroup = new CfnSubnetGroup(this, "Subnets", {
      description: "Thumbs Redis: private isolated subnets",
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    const group = new CfnReplicationGroup(this, "ReplicationGroup", {
      replicationGroupDescription: "Thumbs order ledger and error records",
      engine: "redis",
      engineVersion: "7.1",
      cacheNodeType: props.nodeType,
      numCacheClusters: props.multiAz ? 2 : 1,
      automaticFailoverEnabled: props.multiAz,
      multiAzEnabled: props.multiAz,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authSecret.secretValueFromJson("password").unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
    });
    if (!props.multiAz) {
      acknowledge(
        group,
        "AwsSolutions-AEC4",
        "Multi-AZ is a deployment choice (context redisMultiAz=true adds a replica with automatic " +
          "failover). The single-node default suits records that live 7 days: a node failure loses the " +
          "progress and error records of orders in flight (re-send those orders), never a thumbnail, " +
          "which is in S3.",
      );
    }

    this.endpoint = group.attrPrimaryEndPointAddress;
    this.url = `rediss://${group.attrPrimaryEndPointAddress}:${Token.asString(group.attrPrimaryEndPointPort)}`;
  }

  /** Lets a function's security group connect (and only on the Redis port). */
  admit(securityGroup: ISecurityGroup, description: string): void {
    this.securityGroup.connections.allowFrom(securityGroup, Port.tcp(REDIS_PORT), description);
  }
}

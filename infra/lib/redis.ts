import { type RemovalPolicy, Token } from "aws-cdk-lib";
import { ComparisonOperator, Metric } from "aws-cdk-lib/aws-cloudwatch";
import {
  type ISecurityGroup,
  type IVpc,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from "aws-cdk-lib/aws-ec2";
import { CfnParameterGroup, CfnReplicationGroup, CfnSubnetGroup } from "aws-cdk-lib/aws-elasticache";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { Alarms } from "./alarms.js";
import { acknowledge } from "./nag.js";

/** Not 6379: a scanner that finds the subnet still has to guess the port (cdk-nag AwsSolutions-AEC5). */
export const REDIS_PORT = 6380;

/** The engine version, and the parameter group family that goes with it (they change together). */
export const REDIS_ENGINE_VERSION = "7.1";
export const REDIS_PARAMETER_FAMILY = "redis7";

/**
 * Daily snapshot, then the weekly maintenance window: both UTC, at least an hour long (ElastiCache's
 * minimum), and apart, so a snapshot never runs while the node is being patched.
 */
export const REDIS_SNAPSHOT_WINDOW = "03:00-04:00";
export const REDIS_MAINTENANCE_WINDOW = "sun:05:00-sun:06:00";

/** Alarm thresholds (infra/README.md, "Redis"). */
export const REDIS_ALARMS = {
  /** DatabaseMemoryUsagePercentage: used_memory of maxmemory. With noeviction, 100 % fails writes. */
  memoryPercent: 80,
  /**
   * CPUCreditBalance (burstable cache.t* nodes only): a small fraction of a t4g.micro's daily earnings.
   * A node that runs out is held to its baseline CPU and every Redis call slows down.
   */
  minCpuCredits: 20,
  /**
   * CurrConnections: each Lambda execution environment holds one connection, frozen ones included,
   * so this is about the number of live environments of the four functions; the account's default
   * concurrency is 1,000.
   */
  maxConnections: 1000,
} as const;

export interface RedisProps {
  vpc: IVpc;
  subnets: SubnetSelection;
  nodeType: string;
  multiAz: boolean;
  /** Days of daily snapshots kept; 0 takes none. */
  snapshotRetentionDays: number;
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
  /** The replication group's nodes, as CloudWatch names them (dimension CacheClusterId). */
  readonly cacheClusterIds: string[];
  private readonly nodeType: string;

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

    // The default maxmemory-policy (volatile-lru) evicts keys with a TTL when memory runs out, and every
    // record here has one: a full node would silently drop the plans and progress of live orders. With
    // noeviction a full node refuses writes instead, which the functions report as errors (and the
    // memory alarm warns of long before).
    const parameters = new CfnParameterGroup(this, "Parameters", {
      cacheParameterGroupFamily: REDIS_PARAMETER_FAMILY,
      description: "Thumbs Redis: never evict live order records",
      properties: { "maxmemory-policy": "noeviction" },
    });

    const numCacheClusters = props.multiAz ? 2 : 1;
    const group = new CfnReplicationGroup(this, "ReplicationGroup", {
      replicationGroupDescription: "Thumbs order ledger and error records",
      engine: "redis",
      engineVersion: REDIS_ENGINE_VERSION,
      cacheParameterGroupName: parameters.ref,
      cacheNodeType: props.nodeType,
      numCacheClusters,
      automaticFailoverEnabled: props.multiAz,
      multiAzEnabled: props.multiAz,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authSecret.secretValueFromJson("password").unsafeUnwrap(),
      // A minor upgrade restarts the node and, without a replica, loses the records in memory (orders
      // in flight): apply them deliberately, in the maintenance window (README, "Redis").
      autoMinorVersionUpgrade: false,
      snapshotRetentionLimit: props.snapshotRetentionDays,
      snapshotWindow: REDIS_SNAPSHOT_WINDOW,
      preferredMaintenanceWindow: REDIS_MAINTENANCE_WINDOW,
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

    this.nodeType = props.nodeType;
    // Member clusters are named after the group: <id>-001, <id>-002.
    this.cacheClusterIds = Array.from(
      { length: numCacheClusters },
      (_, i) => `${group.ref}-${String(i + 1).padStart(3, "0")}`,
    );
    this.endpoint = group.attrPrimaryEndPointAddress;
    this.url = `rediss://${group.attrPrimaryEndPointAddress}:${Token.asString(group.attrPrimaryEndPointPort)}`;
  }

  /**
   * Alarms on each node: memory filling up (with noeviction, a full node fails writes), any eviction
   * (should never happen with noeviction), CPU credits running out (burstable node types only), and
   * more connections than the functions should ever hold.
   */
  addAlarms(alarms: Alarms): void {
    const burstable = /^cache\.t\d/.test(this.nodeType);
    this.cacheClusterIds.forEach((cacheClusterId, i) => {
      const node = i === 0 ? "" : `Node${i + 1}`;
      const metric = (metricName: string, statistic: string) =>
        new Metric({
          namespace: "AWS/ElastiCache",
          metricName,
          dimensionsMap: { CacheClusterId: cacheClusterId },
          statistic,
        });
      alarms.threshold(`RedisMemory${node}`, metric("DatabaseMemoryUsagePercentage", "Maximum"), {
        threshold: REDIS_ALARMS.memoryPercent,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          `Redis node ${cacheClusterId} is over ${REDIS_ALARMS.memoryPercent}% of its memory; at 100% it ` +
          "refuses writes (maxmemory-policy noeviction) and orders fail. Inspect BytesUsedForCache and " +
          'CurrItems, the order volume and recordTtlSeconds (README, "Redis sizing"); move to a larger ' +
          "redisNodeType or shorten the TTL.",
      });
      alarms.threshold(`RedisEvictions${node}`, metric("Evictions", "Sum"), {
        threshold: 0,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          `Redis node ${cacheClusterId} evicted keys: order plans, progress or error records were lost. ` +
          "The parameter group sets maxmemory-policy noeviction, so inspect the group's parameter group " +
          "(aws elasticache describe-replication-groups / describe-cache-parameters) and its memory.",
      });
      if (burstable) {
        alarms.threshold(`RedisCpuCredits${node}`, metric("CPUCreditBalance", "Minimum"), {
          threshold: REDIS_ALARMS.minCpuCredits,
          comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
          description:
            `Redis node ${cacheClusterId} (${this.nodeType}, burstable) is running out of CPU credits; ` +
            "without them it is held to its baseline CPU and every function's Redis calls slow down. " +
            "Inspect its CPUUtilization and EngineCPUUtilization against the order volume; move to a " +
            "larger or non-burstable redisNodeType (e.g. cache.m7g.large).",
        });
      }
      alarms.threshold(`RedisConnections${node}`, metric("CurrConnections", "Maximum"), {
        threshold: REDIS_ALARMS.maxConnections,
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description:
          `Redis node ${cacheClusterId} holds over ${REDIS_ALARMS.maxConnections} connections, about one ` +
          "per live Lambda execution environment. Inspect the functions' ConcurrentExecutions (the " +
          "worker's above all: workerReservedConcurrency caps it) and NewConnections for a connection leak.",
      });
    });
  }

  /** Lets a function's security group connect (and only on the Redis port). */
  admit(securityGroup: ISecurityGroup, description: string): void {
    this.securityGroup.connections.allowFrom(securityGroup, Port.tcp(REDIS_PORT), description);
  }
}

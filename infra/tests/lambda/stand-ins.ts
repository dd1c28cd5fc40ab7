import { type Emulator, startEmulator } from "@thumbs/local";
import { type CloudAssembly, deployedFunction, type StandIns } from "./assembly.js";
import type { DeployedFunction } from "./invoke.js";
import { type SecretsStandIn, startSecretsStandIn } from "./secrets-stand-in.js";
import { startTlsRedis, type TlsRedis } from "./tls-redis.js";

export const REGION = "us-east-1";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:RedisAuthToken-AbCdEf";

/** What the deployed functions talk to, on this machine, and the functions pointed at it. */
export interface LocalCloud {
  emulator: Emulator;
  redis: TlsRedis;
  secrets: SecretsStandIn;
  secretArn: string;
  /** A function of the template, its environment resolved to these stand-ins. */
  fn(name: string): DeployedFunction;
  /** Where the endpoints are: all a run adds to the template's environment. */
  overrides: Record<string, string>;
  /** The `source` the template's order-completed rule matches. */
  eventSource: string;
  stop(): Promise<void>;
}

/**
 * Stands in for everything the template references: the emulator for S3/SNS/SQS, a TLS+AUTH
 * `redis-server` for ElastiCache, a Secrets Manager that holds its AUTH token.
 */
export async function startLocalCloud(assembly: CloudAssembly): Promise<LocalCloud> {
  const [emulator, redis] = await Promise.all([startEmulator(), startTlsRedis()]);
  const secrets = await startSecretsStandIn({ arn: SECRET_ARN, value: redis.password });
  const standIns: StandIns = {
    refs: {
      RedisAuthToken: SECRET_ARN,
      SliceTopic: emulator.topicArn,
      OrderEventsTopic: emulator.orderEventsTopicArn,
      StorageOriginals: emulator.resources.sourceBucket,
      StorageThumbnails: emulator.resources.thumbnailBucket,
    },
    attributes: {
      "RedisReplicationGroup.PrimaryEndPoint.Address": redis.host,
      "RedisReplicationGroup.PrimaryEndPoint.Port": String(redis.port),
    },
  };
  const rule = Object.values(assembly.resources).find((r) => r.Type === "AWS::Events::Rule");
  if (!rule) throw new Error("The template has no order-completed rule");
  return {
    emulator,
    redis,
    secrets,
    secretArn: SECRET_ARN,
    fn: (name) => deployedFunction(assembly, name, standIns),
    // The emulator for S3/SNS/SQS (path-style: it has no bucket DNS names), the Secrets Manager
    // stand-in, and trust in the TLS Redis's throwaway CA.
    overrides: {
      ...emulator.awsEnv,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      NODE_EXTRA_CA_CERTS: redis.caFile,
    },
    eventSource: (rule.Properties.EventPattern as { source: string[] }).source[0]!,
    stop: async () => {
      await Promise.all([emulator.stop(), redis.stop(), secrets.close()]);
    },
  };
}

/** The EventBridge event the backend's order-completed puts on the bus, as the rule delivers it. */
export function orderCompletedEvent(source: string, detail: Record<string, unknown>) {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "order-completed",
    source,
    account: "123456789012",
    time: new Date().toISOString(),
    region: REGION,
    resources: [],
    detail,
  };
}

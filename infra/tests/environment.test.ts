import { loadCoordinatorConfig } from "@thumbs/coordinator";
import { adminApiEnv, coordinatorEnv, deadLetterEnv, type EnvShape, workerEnv } from "@thumbs/core";
import { loadApiConfig } from "@thumbs/error-consumer";
import { loadDeadLetterConfig, loadWorkerConfig } from "@thumbs/worker";
import { describe, expect, it } from "vitest";
import { resolveValue, type StandIns } from "./lambda/assembly.js";
import { resourcesOfType, synth } from "./synth.js";

/** Values of the right shape for what the template references (an account's real ones at deploy). */
const PLACEHOLDERS: StandIns = {
  refs: {
    RedisAuthToken: "arn:aws:secretsmanager:us-east-1:123456789012:secret:RedisAuthToken-AbCdEf",
    SliceTopic: "arn:aws:sns:us-east-1:123456789012:SliceTopic",
    OrderEventsTopic: "arn:aws:sns:us-east-1:123456789012:OrderEventsTopic",
    StorageOriginals: "thumbs-originals-abc",
    StorageThumbnails: "thumbs-thumbnails-abc",
  },
  attributes: {
    "RedisReplicationGroup.PrimaryEndPoint.Address": "master.thumbs.abc.use1.cache.amazonaws.com",
    "RedisReplicationGroup.PrimaryEndPoint.Port": "6380",
  },
};

/** What Lambda's runtime and Powertools read, set by every function beside its contract. */
const RUNTIME_VARIABLES = [
  "NODE_OPTIONS",
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_METRICS_NAMESPACE",
  "POWERTOOLS_LOG_LEVEL",
];

describe("each function's environment in the template, read by its own config loader", () => {
  // Prepare (shared)
  const { template } = synth();
  const functions = resourcesOfType(template, "AWS::Lambda::Function");
  const environmentOf = (name: string): Record<string, string> => {
    const [, fn] = Object.entries(functions).find(([id]) => id.startsWith(`${name}Function`))!;
    const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    return Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [
        key,
        resolveValue(value, PLACEHOLDERS, `${name} ${key}`),
      ]),
    );
  };

  it.each<[string, EnvShape, (env: Record<string, string>) => unknown]>([
    ["Coordinator", coordinatorEnv, loadCoordinatorConfig],
    ["Worker", workerEnv, loadWorkerConfig],
    ["DeadLetters", deadLetterEnv, loadDeadLetterConfig],
    ["ErrorConsumer", adminApiEnv, loadApiConfig],
  ])("%s: every variable is in its contract, and its loader accepts them", (name, contract, load) => {
    // Act
    const env = environmentOf(name);
    const config = load(env);

    // Assess
    const outside = Object.keys(env).filter((key) => !(key in contract) && !RUNTIME_VARIABLES.includes(key));
    expect(outside).toEqual([]);
    expect(config).toMatchObject({
      redis: {
        url: "rediss://master.thumbs.abc.use1.cache.amazonaws.com:6380",
        authSecretArn: PLACEHOLDERS.refs.RedisAuthToken,
      },
    });
  });

  it("gives each function what it is deployed to use", () => {
    // Act
    const coordinator = loadCoordinatorConfig(environmentOf("Coordinator"));
    const worker = loadWorkerConfig(environmentOf("Worker"));
    const deadLetters = loadDeadLetterConfig(environmentOf("DeadLetters"));
    const api = loadApiConfig(environmentOf("ErrorConsumer"));

    // Assess
    expect(coordinator).toMatchObject({
      sliceTopicArn: PLACEHOLDERS.refs.SliceTopic,
      orderEventsTopicArn: PLACEHOLDERS.refs.OrderEventsTopic,
      allowedSourceBuckets: [PLACEHOLDERS.refs.StorageOriginals],
    });
    expect(worker).toMatchObject({
      thumbnailBucket: PLACEHOLDERS.refs.StorageThumbnails,
      sliceTopicArn: PLACEHOLDERS.refs.SliceTopic,
      orderEventsTopicArn: PLACEHOLDERS.refs.OrderEventsTopic,
    });
    expect(deadLetters).toMatchObject({
      thumbnails: { bucket: PLACEHOLDERS.refs.StorageThumbnails, prefix: "" },
      orderEventsTopicArn: PLACEHOLDERS.refs.OrderEventsTopic,
    });
    expect(api).toMatchObject({
      thumbnailBucket: PLACEHOLDERS.refs.StorageThumbnails,
      sliceTopicArn: PLACEHOLDERS.refs.SliceTopic,
      apiToken: undefined,
    });
  });
});

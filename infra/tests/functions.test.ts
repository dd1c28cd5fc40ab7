import { REQUIRED_OUTPUTS } from "@thumbs/load-test/stack-outputs";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { API_GATEWAY_TIMEOUT_SECONDS } from "../../packages/error-consumer/src/config.js";
import { DEFAULT_WORKER_MEMORY_MB, DEFAULT_WORKER_RESERVED_CONCURRENCY } from "../lib/config.js";
import { handlerEntry } from "../lib/paths.js";
import type { PipelineFunction } from "../lib/pipeline-function.js";
import { logicalId, resourcesOfType, synth } from "./synth.js";

// Prepare (shared): one synth of the default configuration for every test in this file.
// The functions and what connects them: memory, runtime, environment, retries, the rule, outputs.
const { stack, template } = synth();

const fnId = (name: string) => logicalId(template, "AWS::Lambda::Function", `${name}Function`);
const fnProps = (name: string) =>
  resourcesOfType(template, "AWS::Lambda::Function")[fnId(name)]!.Properties as Record<string, unknown>;
/** API Gateway's maximum integration timeout for an HTTP API (a hard limit, not a setting here). */
const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 30;
const env = (name: string) => (fnProps(name).Environment as { Variables: Record<string, unknown> }).Variables;

describe("functions", () => {
  it.each([
    ["Coordinator", 256],
    ["Worker", DEFAULT_WORKER_MEMORY_MB],
    ["ErrorConsumer", 1024],
    ["DeadLetters", 256],
  ])("%s runs Node.js 22 on arm64 with %i MB, in the isolated subnets, logging JSON", (name, memory) => {
    // Act
    const props = fnProps(name);

    // Assess
    expect(props).toMatchObject({
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      MemorySize: memory,
      Handler: "index.handler",
      LoggingConfig: { LogFormat: "JSON" },
      VpcConfig: { SubnetIds: expect.any(Array), SecurityGroupIds: expect.any(Array) },
    });
    expect(JSON.stringify(props.VpcConfig)).toContain("isolatedSubnet");
  });

  it("defaults the worker to one full vCPU (1,769 MB) and a 70 s timeout (twice the hand-back margin)", () => {
    // Act
    const props = fnProps("Worker");

    // Assess
    expect(props.MemorySize).toBe(1769);
    expect(props.Timeout).toBe(70);
  });

  it("caps concurrent workers at the default reserved concurrency (README: Worker fan-out)", () => {
    // Act
    const props = fnProps("Worker");

    // Assess
    expect(DEFAULT_WORKER_RESERVED_CONCURRENCY).toBe(75);
    expect(props.ReservedConcurrentExecutions).toBe(DEFAULT_WORKER_RESERVED_CONCURRENCY);
    for (const name of ["Coordinator", "ErrorConsumer", "DeadLetters"]) {
      expect(fnProps(name).ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it("gives every function the Powertools settings and the shared Redis settings", () => {
    for (const [name, service] of [
      ["Coordinator", "thumbs-coordinator"],
      ["Worker", "thumbs-worker"],
      ["ErrorConsumer", "thumbs-error-consumer"],
      ["DeadLetters", "thumbs-dead-letters"],
    ] as const) {
      // Act
      const vars = env(name);

      // Assess
      expect(vars).toMatchObject({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: "Thumbs",
        REDIS_KEY_PREFIX: "thumbs:",
        RECORD_TTL_SECONDS: "604800",
        REDIS_AUTH_SECRET_ARN: { Ref: logicalId(template, "AWS::SecretsManager::Secret", "RedisAuthToken") },
      });
      expect(JSON.stringify(vars.REDIS_URL)).toMatch(
        /"rediss:\/\/".*PrimaryEndPoint\.Address.*PrimaryEndPoint\.Port/,
      );
    }
  });

  it("points the coordinator at the slice topic and the originals bucket, the worker at the thumbnails", () => {
    // Act
    const coordinator = env("Coordinator");
    const worker = env("Worker");

    // Assess
    expect(coordinator.SLICE_TOPIC_ARN).toEqual({
      Ref: logicalId(template, "AWS::SNS::Topic", "SliceTopic"),
    });
    expect(coordinator.ALLOWED_SOURCE_BUCKETS).toEqual({
      Ref: logicalId(template, "AWS::S3::Bucket", "StorageOriginals"),
    });
    expect(worker.THUMBNAIL_BUCKET).toEqual({
      Ref: logicalId(template, "AWS::S3::Bucket", "StorageThumbnails"),
    });
    expect(worker.THUMBNAIL_PREFIX).toBe("");
    // Both may announce an order's completion (the coordinator only for an order with no images).
    for (const vars of [coordinator, worker]) {
      expect(vars.ORDER_EVENTS_TOPIC_ARN).toEqual({
        Ref: logicalId(template, "AWS::SNS::Topic", "OrderEventsTopic"),
      });
    }
    expect(worker.CONCURRENCY).toBeUndefined();
    expect(env("ErrorConsumer").API_TOKEN).toBeUndefined();
  });
});

describe("the admin API function", () => {
  it("answers before API Gateway's 30 s integration limit, and makes a thumbnail on demand within less", () => {
    // Act
    const timeout = fnProps("ErrorConsumer").Timeout as number;
    const vars = env("ErrorConsumer");

    // Assess: past 30 s API Gateway answers a bare 503 whatever the function would have said; the
    // on-demand deadline (fetch, decode, store) leaves the function time to answer with the class.
    expect(timeout).toBeLessThan(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS);
    expect(timeout).toBe(25);
    const onDemand = Number(vars.ON_DEMAND_TIMEOUT_SECONDS);
    expect(onDemand).toBe(20);
    expect(onDemand).toBeLessThanOrEqual(timeout - 5);
    // Stored thumbnails are read by the browser through presigned URLs, signed for 10 minutes.
    expect(vars.THUMBNAIL_URL_SECONDS).toBe("600");
    expect(API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS).toBe(API_GATEWAY_TIMEOUT_SECONDS);
  });
});

describe("slices", () => {
  it("encrypts the slice topic and subscribes the worker with a dead-letter queue", () => {
    // Assess
    template.hasResourceProperties("AWS::SNS::Topic", {
      KmsMasterKeyId: Match.stringLikeRegexp(":alias/aws/sns$"),
    });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "lambda",
      TopicArn: { Ref: logicalId(template, "AWS::SNS::Topic", "SliceTopic") },
      Endpoint: { "Fn::GetAtt": [fnId("Worker"), "Arn"] },
      RedrivePolicy: {
        deadLetterTargetArn: {
          "Fn::GetAtt": [logicalId(template, "AWS::SQS::Queue", "SliceDeliveryDlq"), "Arn"],
        },
      },
    });
  });

  it.each([
    ["Worker", "WorkerFailures"],
    ["Coordinator", "CoordinatorFailures"],
  ])("retries %s's async invocations twice, then sends them to %s", (name, queue) => {
    // Assess
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: fnId(name) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { "Fn::GetAtt": [logicalId(template, "AWS::SQS::Queue", queue), "Arn"] } },
      },
    });
  });

  it("encrypts every queue and keeps messages 14 days", () => {
    // Act
    const queues = Object.values(resourcesOfType(template, "AWS::SQS::Queue"));

    // Assess
    expect(queues).toHaveLength(3);
    for (const queue of queues) {
      expect(queue.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86400,
      });
    }
  });
});

describe("dead letters", () => {
  const queueId = (name: string) => logicalId(template, "AWS::SQS::Queue", name);
  const mappings = () =>
    Object.values(resourcesOfType(template, "AWS::Lambda::EventSourceMapping")).map((m) => m.Properties!);

  it("builds DeadLetters from the worker's ./dead-letter-handler export, with its own settings", () => {
    // Act
    const fn = stack.node.findChild("DeadLetters") as PipelineFunction;
    const vars = env("DeadLetters");

    // Assess
    expect(fn.entry).toBe(handlerEntry("worker", "./dead-letter-handler"));
    expect(fnProps("DeadLetters").Timeout).toBe(60);
    expect(vars.ORDER_EVENTS_TOPIC_ARN).toEqual({
      Ref: logicalId(template, "AWS::SNS::Topic", "OrderEventsTopic"),
    });
    // Redis, the order-events topic and where thumbnails are (to clear a failed image's): no slice
    // topic, no worker tuning.
    expect(vars.THUMBNAIL_BUCKET).toBeDefined();
    for (const name of ["SLICE_TOPIC_ARN", "UV_THREADPOOL_SIZE"]) {
      expect(vars[name], name).toBeUndefined();
    }
  });

  it("consumes both slice dead-letter queues in small batches, reporting per-message failures", () => {
    // Act
    const found = mappings();

    // Assess: not CoordinatorFailures, whose messages are orders, not slices.
    expect(found).toHaveLength(2);
    expect(found.map((m) => m.EventSourceArn)).toEqual(
      expect.arrayContaining(
        ["WorkerFailures", "SliceDeliveryDlq"].map((q) => ({ "Fn::GetAtt": [queueId(q), "Arn"] })),
      ),
    );
    for (const mapping of found) {
      expect(mapping).toMatchObject({
        FunctionName: { Ref: fnId("DeadLetters") },
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
      expect(mapping.BatchSize as number).toBeLessThanOrEqual(10);
    }
  });

  it("gives each consumed queue a visibility timeout of at least the function's timeout", () => {
    // Prepare
    const timeout = fnProps("DeadLetters").Timeout as number;
    const queues = resourcesOfType(template, "AWS::SQS::Queue");

    // Act
    const visibility = mappings().map((m) => {
      const [id] = (m.EventSourceArn as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"];
      return queues[id]!.Properties?.VisibilityTimeout as number | undefined;
    });

    // Assess: SQS's default (30 s) would be too short, and Lambda would refuse the mapping.
    expect(visibility).toHaveLength(2);
    for (const seconds of visibility) expect(seconds).toBeGreaterThanOrEqual(timeout);
  });
});

describe("events", () => {
  it("invokes the coordinator on the backend's order-completed events, with a dead-letter queue", () => {
    // Assess
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: { Ref: logicalId(template, "AWS::Events::EventBus", "EventBus") },
      EventPattern: { source: ["thumbs.backend"], "detail-type": ["order-completed"] },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [fnId("Coordinator"), "Arn"] },
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [logicalId(template, "AWS::SQS::Queue", "CoordinatorFailures"), "Arn"] },
          },
          RetryPolicy: { MaximumRetryAttempts: 4 },
        }),
      ],
    });
  });
});

describe("outputs", () => {
  it("exports the names the load test reads", () => {
    // Act
    const outputs = Object.keys(template.findOutputs("*"));

    // Assess: the load test's own list, so a renamed output fails here, not in a deployed run.
    expect(outputs).toEqual(expect.arrayContaining([...REQUIRED_OUTPUTS]));
  });
});

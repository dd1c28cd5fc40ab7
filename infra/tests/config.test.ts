import { DEFAULT_IMAGE_TIMEOUT_SECONDS, defaultHandbackMarginSeconds } from "@thumbs/core";
import { RemovalPolicy } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { IMAGE_TIMEOUT_SECONDS, minWorkerTimeoutSeconds, readConfig } from "../lib/config.js";
import { handlerEntry, installedVersion, REPO_ROOT } from "../lib/paths.js";
import { logicalId, resourcesOfType, synth, testApp } from "./synth.js";

const configWith = (context: Record<string, unknown>) => readConfig(testApp(context).node);

describe("readConfig", () => {
  it("defaults to the documented configuration", () => {
    // Act
    const config = configWith({});

    // Assess
    expect(config).toMatchObject({
      originalsBucketName: undefined,
      originalsKmsKeyArn: undefined,
      eventSource: "thumbs.backend",
      worker: { memoryMb: 1769, timeoutSeconds: 70, reservedConcurrency: 75, concurrency: undefined },
      redis: {
        nodeType: "cache.t4g.micro",
        multiAz: false,
        keyPrefix: "thumbs:",
        recordTtlSeconds: 604800,
        snapshotRetentionDays: 1,
      },
      objectExpirationDays: 7,
      logRetention: 30,
      removalPolicy: RemovalPolicy.RETAIN,
      tracing: false,
    });
  });

  it("expires objects with their records: the record TTL in whole days, unless set", () => {
    // Act
    const fromTtl = configWith({ recordTtlSeconds: String(36 * 3600) });
    const explicit = configWith({ recordTtlSeconds: "3600", objectExpirationDays: "0" });

    // Assess
    expect(fromTtl.objectExpirationDays).toBe(2);
    expect(explicit.objectExpirationDays).toBe(0);
  });

  it("accepts -c strings as well as cdk.json numbers and booleans", () => {
    // Act
    const fromCli = configWith({ workerMemoryMb: "3008", redisMultiAz: "true", removalPolicy: "destroy" });
    const fromJson = configWith({ workerMemoryMb: 3008, redisMultiAz: true });

    // Assess
    expect(fromCli.worker.memoryMb).toBe(3008);
    expect(fromCli.redis.multiAz).toBe(true);
    expect(fromCli.removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect(fromJson.worker.memoryMb).toBe(3008);
    expect(fromJson.redis.multiAz).toBe(true);
  });

  it.each([
    [{ workerMemoryMb: "64" }, /workerMemoryMb.*128 to 10240/],
    [{ workerTimeoutSeconds: "1.5" }, /workerTimeoutSeconds.*integer/],
    [{ workerTimeoutSeconds: "60" }, /workerTimeoutSeconds" must be at least 70.*35 s hand-back margin/],
    [{ redisMultiAz: "yes" }, /redisMultiAz.*true or false/],
    [{ logRetentionDays: "10" }, /logRetentionDays.*retention/],
    [{ thumbnailFormat: "png" }, /thumbnailFormat.*jpeg, webp/],
    [{ removalPolicy: "snapshot" }, /removalPolicy.*retain, destroy/],
    [{ redisSnapshotRetentionDays: "36" }, /redisSnapshotRetentionDays.*0 to 35/],
    [{ objectExpirationDays: "-1" }, /objectExpirationDays.*0 to 3650/],
    [{ workerReservedConcurrency: "0" }, /workerReservedConcurrency.*1 to 10000, or "none"/],
    [{ workerReservedConcurrency: "2.5" }, /workerReservedConcurrency.*1 to 10000, or "none"/],
    [{ workerReservedConcurrency: "unlimited" }, /workerReservedConcurrency.*1 to 10000, or "none"/],
  ])("rejects %j naming the key", (context, message) => {
    // Act
    const read = () => configWith(context);

    // Assess
    expect(read).toThrow(message);
  });
});

describe("context validation", () => {
  it("reports every bad key at once, each with what it must be and what it was", () => {
    // Act
    const read = () => configWith({ workerMemoryMb: "lots", thumbnailQuality: 0, tracing: "on" });

    // Assess
    expect(read).toThrow(
      [
        'Context "workerMemoryMb" must be an integer from 128 to 10240, got "lots".',
        'Context "thumbnailQuality" must be an integer from 1 to 100, got 0.',
        'Context "tracing" must be true or false, got "on".',
      ].join("\n"),
    );
  });
});

describe("worker reserved concurrency", () => {
  const workerProps = (context: Record<string, unknown>) => {
    const { template } = synth(context);
    return resourcesOfType(template, "AWS::Lambda::Function")[
      logicalId(template, "AWS::Lambda::Function", "WorkerFunction")
    ]!.Properties as Record<string, unknown>;
  };

  it("takes workerReservedConcurrency from -c strings and cdk.json numbers", () => {
    // Act
    const fromCli = configWith({ workerReservedConcurrency: "250" });
    const fromJson = configWith({ workerReservedConcurrency: 250 });

    // Assess
    expect(fromCli.worker.reservedConcurrency).toBe(250);
    expect(fromJson.worker.reservedConcurrency).toBe(250);
  });

  it('sets ReservedConcurrentExecutions from the option, and none at all for "none"', () => {
    // Act
    const capped = workerProps({ workerReservedConcurrency: "20" });
    const uncapped = workerProps({ workerReservedConcurrency: "none" });

    // Assess
    expect(capped.ReservedConcurrentExecutions).toBe(20);
    expect(uncapped).not.toHaveProperty("ReservedConcurrentExecutions");
  });
});

describe("worker timeout", () => {
  it("mirrors the worker's default image timeout from @thumbs/core", () => {
    // Assess: infra does not set IMAGE_TIMEOUT_SECONDS, so the worker runs with core's default.
    expect(IMAGE_TIMEOUT_SECONDS).toBe(DEFAULT_IMAGE_TIMEOUT_SECONDS);
  });

  it("is at least twice the worker's own hand-back margin (image timeout + 5 s)", () => {
    // Act
    const min = minWorkerTimeoutSeconds();

    // Assess
    expect(min).toBe(2 * defaultHandbackMarginSeconds(DEFAULT_IMAGE_TIMEOUT_SECONDS));
    expect(min).toBe(70);
  });

  it("accepts the default and the floor itself", () => {
    // Act
    const byDefault = configWith({});
    const atFloor = configWith({ workerTimeoutSeconds: "70" });

    // Assess
    expect(byDefault.worker.timeoutSeconds).toBeGreaterThanOrEqual(minWorkerTimeoutSeconds());
    expect(atFloor.worker.timeoutSeconds).toBe(70);
  });

  it("fails synth below the floor", () => {
    // Act
    const run = () => synth({ workerTimeoutSeconds: "69" });

    // Assess
    expect(run).toThrow(/workerTimeoutSeconds" must be at least 70/);
  });
});

describe("packages", () => {
  it("deploys each package's ./handler source export", () => {
    // Act
    const entries = (["coordinator", "worker", "error-consumer"] as const).map((pkg) => handlerEntry(pkg));

    // Assess
    expect(entries).toEqual([
      `${REPO_ROOT}packages/coordinator/src/handler.ts`,
      `${REPO_ROOT}packages/worker/src/handler.ts`,
      `${REPO_ROOT}packages/error-consumer/src/handler.ts`,
    ]);
  });

  it("deploys another export when asked, and refuses one the package lacks", () => {
    // Act
    const deadLetters = handlerEntry("worker", "./dead-letter-handler");
    const missing = () => handlerEntry("coordinator", "./dead-letter-handler");

    // Assess
    expect(deadLetters).toBe(`${REPO_ROOT}packages/worker/src/dead-letter-handler.ts`);
    expect(missing).toThrow(/packages\/coordinator\/package.json has no "\.\/dead-letter-handler" export/);
  });

  it("installs the worker's own sharp version", () => {
    // Act
    const version = installedVersion("worker", "sharp");

    // Assess
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("context options", () => {
  // Prepare (shared): one synth with every option away from its default.
  const { template } = synth({
    originalsBucketName: "my-photos",
    thumbnailPrefix: "thumbs/",
    eventBusName: "default",
    eventSource: "shop.orders",
    workerMemoryMb: "3538",
    workerTimeoutSeconds: "120",
    workerReservedConcurrency: "50",
    workerConcurrency: "4",
    redisMultiAz: "true",
    redisNodeType: "cache.m7g.large",
    redisSnapshotRetentionDays: "3",
    recordTtlSeconds: String(14 * 24 * 3600),
    thumbnailSizes: "large:800x800,small:200x200",
    logRetentionDays: "7",
    alarmEmail: "ops@example.com",
    tracing: "true",
  });
  const fn = (name: string) =>
    resourcesOfType(template, "AWS::Lambda::Function")[
      logicalId(template, "AWS::Lambda::Function", `${name}Function`)
    ]!.Properties as Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } };

  it("sizes the worker from context", () => {
    // Act
    const worker = fn("Worker");

    // Assess
    expect(worker).toMatchObject({ MemorySize: 3538, Timeout: 120, ReservedConcurrentExecutions: 50 });
    expect(worker.Environment.Variables).toMatchObject({ CONCURRENCY: "4", THUMBNAIL_PREFIX: "thumbs/" });
    expect(fn("Coordinator").Environment.Variables.THUMBNAIL_SIZES).toBe("large:800x800,small:200x200");
  });

  it("imports the originals bucket instead of creating it", () => {
    // Act
    const buckets = Object.keys(resourcesOfType(template, "AWS::S3::Bucket"));

    // Assess
    expect(buckets.some((id) => id.startsWith("StorageOriginals"))).toBe(false);
    expect(fn("Coordinator").Environment.Variables.ALLOWED_SOURCE_BUCKETS).toBe("my-photos");
    expect(JSON.stringify(template.toJSON())).toContain("arn:aws:s3:::my-photos/*");
  });

  it("attaches the rule to an existing bus with the configured source", () => {
    // Assess
    template.resourceCountIs("AWS::Events::EventBus", 0);
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: "default",
      EventPattern: { source: ["shop.orders"], "detail-type": ["order-completed"] },
    });
  });

  it("runs Redis Multi-AZ with a replica and automatic failover", () => {
    // Assess
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
  });

  it("keeps the configured snapshots and alarms on both nodes, without CPU credits off burstable types", () => {
    // Act
    const alarms = Object.values(resourcesOfType(template, "AWS::CloudWatch::Alarm")).map((a) => ({
      metric: a.Properties?.MetricName,
      on: JSON.stringify(a.Properties?.Dimensions),
    }));

    // Assess
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      CacheNodeType: "cache.m7g.large",
      SnapshotRetentionLimit: 3,
    });
    for (const metric of ["DatabaseMemoryUsagePercentage", "Evictions", "CurrConnections"]) {
      for (const node of ["-001", "-002"]) {
        expect(alarms).toContainEqual({ metric, on: expect.stringContaining(node) });
      }
    }
    expect(alarms.map((a) => a.metric)).not.toContain("CPUCreditBalance");
  });

  it("expires thumbnails after the record TTL in days, even with imported originals", () => {
    // Act
    const rules = JSON.stringify(
      resourcesOfType(template, "AWS::S3::Bucket")[
        logicalId(template, "AWS::S3::Bucket", "StorageThumbnails")
      ]!.Properties!.LifecycleConfiguration,
    );

    // Assess
    expect(rules).toContain('"ExpirationInDays":14');
  });

  it("traces actively through an X-Ray endpoint, and mails the alarms", () => {
    // Act
    const endpoints = JSON.stringify(resourcesOfType(template, "AWS::EC2::VPCEndpoint"));

    // Assess
    expect(fn("Worker").TracingConfig).toEqual({ Mode: "Active" });
    expect(endpoints).toContain(".xray");
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
    template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });
});

describe("objectExpirationDays=0", () => {
  // Prepare
  const { template } = synth({ objectExpirationDays: "0" });

  it("keeps objects, but still aborts incomplete uploads after a day", () => {
    // Act
    const rules = ["StorageOriginals", "StorageThumbnails"].map((prefix) =>
      JSON.stringify(
        resourcesOfType(template, "AWS::S3::Bucket")[logicalId(template, "AWS::S3::Bucket", prefix)]!
          .Properties!.LifecycleConfiguration,
      ),
    );

    // Assess
    for (const rule of rules) {
      expect(rule).not.toContain("ExpirationInDays");
      expect(rule).toContain('"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}');
    }
  });
});

import { PurgeQueueCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readAssembly } from "./lambda/assembly.js";
import { type BundleRun, invokeBundle } from "./lambda/invoke.js";
import { findLambdaRuntime, INSTALL_HINT, type LambdaRuntime } from "./lambda/runtime.js";
import { seedObjects } from "./lambda/seed.js";
import { type LocalCloud, orderCompletedEvent, REGION, startLocalCloud } from "./lambda/stand-ins.js";

const found = findLambdaRuntime();
if (found.missing.length > 0 && process.env.CI) {
  throw new Error(`Bundle tests need ${found.missing.join("; ")}. Install with: ${INSTALL_HINT}`);
}

/** The largest prefix order the coordinator is sized for (infra/README.md, "Sizing the functions"). */
const IMAGES = 100_000;
/** Lambda kills a function whose resident set reaches its memory size: keep a fifth in reserve. */
const HEADROOM = 0.8;

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

describe.skipIf(!found.runtime)("the coordinator's bundle within its configured memory", () => {
  const runtime = found.runtime as LambdaRuntime;
  let cloud: LocalCloud;
  const orderId = "memory-100k";
  const prefix = `orders/${orderId}/`;

  // Prepare (shared): a 100,000-image order under one prefix, camera-style names.
  beforeAll(async () => {
    cloud = await startLocalCloud(readAssembly(inject("cdkOut")));
    const keys = Array.from(
      { length: IMAGES },
      (_, i) => `${prefix}Camera Roll ${Math.floor(i / 1000)}/IMG_${String(i).padStart(6, "0")}.JPG`,
    );
    await seedObjects(cloud.emulator.endpoint, cloud.emulator.resources.sourceBucket, keys);
  }, 600_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  /** One warm container: the events in order, under Lambda's heap flags for the template's memory. */
  async function runCoordinator(events: unknown[]): Promise<BundleRun> {
    const run = await invokeBundle(runtime, cloud.fn("Coordinator"), events, {
      arch: "host",
      region: REGION,
      overrides: cloud.overrides,
    });
    await cloud.emulator.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: cloud.emulator.queueUrl }));
    return run;
  }

  it("plans a 100,000-image prefix order, then refuses a conflicting event, below 80% of its memory", async () => {
    // Prepare
    const memoryMb = cloud.fn("Coordinator").memoryMb;
    const bucket = cloud.emulator.resources.sourceBucket;
    const planned = orderCompletedEvent(cloud.eventSource, { orderId, bucket, prefix });
    // Same order, another prefix: refused with OrderConflictError, thrown to Lambda (stack and all).
    const conflicting = orderCompletedEvent(cloud.eventSource, { orderId, bucket, prefix: "orders/other/" });

    // Act
    const run = await runCoordinator([planned, conflicting]);

    // Assess
    console.info(
      `coordinator bundle, ${memoryMb} MB: init ${mb(run.initRssBytes)} MB, peak ${mb(run.peakRssBytes)} MB ` +
        `after planning ${IMAGES} images and one thrown error`,
    );
    expect(run.invocations[0]).toMatchObject({ ok: true, result: { orderId, total: IMAGES } });
    expect(run.invocations[1]).toMatchObject({ ok: false, errorType: "OrderConflictError" });
    expect(run.peakRssBytes).toBeLessThan(memoryMb * 2 ** 20 * HEADROOM);
  }, 600_000);

  it("throws on its first invocation (a cold start that fails) below 80% of its memory", async () => {
    // Prepare: an event naming a bucket the coordinator may not read.
    const memoryMb = cloud.fn("Coordinator").memoryMb;
    const refused = orderCompletedEvent(cloud.eventSource, {
      orderId: "memory-refused",
      bucket: "someone-elses-bucket",
      prefix: "orders/x/",
    });

    // Act
    const run = await runCoordinator([refused]);

    // Assess
    console.info(`coordinator bundle, ${memoryMb} MB: peak ${mb(run.peakRssBytes)} MB on a thrown error`);
    expect(run.invocations[0]).toMatchObject({ ok: false });
    expect(run.peakRssBytes).toBeLessThan(memoryMb * 2 ** 20 * HEADROOM);
  }, 120_000);
});

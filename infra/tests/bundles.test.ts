import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { snsEventFromSqsBody, uploadOrder } from "@thumbs/local";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readAssembly } from "./lambda/assembly.js";
import { type Invocation, invokeBundle } from "./lambda/invoke.js";
import { findLambdaRuntime, INSTALL_HINT, type LambdaRuntime } from "./lambda/runtime.js";
import { type LocalCloud, orderCompletedEvent, REGION, startLocalCloud } from "./lambda/stand-ins.js";

const found = findLambdaRuntime();
if (found.missing.length > 0) {
  const message = `Bundle tests need ${found.missing.join("; ")}. Install with: ${INSTALL_HINT}`;
  // CI installs them (.ci/run): there a missing runtime is a failure, not a skip.
  if (process.env.CI) throw new Error(message);
  console.warn(`Skipping: ${message}`);
}

/** Messages waiting in a queue now (one long poll per batch), deleted as they are taken. */
async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(message.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

/** An HTTP API (payload v2) request, as API Gateway hands it to the function after IAM authorization. */
function httpApiEvent(method: string, path: string, query: Record<string, string> = {}) {
  const rawQueryString = new URLSearchParams(query).toString();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    headers: { host: "api.example.com", "content-type": "application/json" },
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.com",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "bundle-test" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    isBase64Encoded: false,
  };
}

/** heif-enc (Debian's libheif-examples), which makes the order's iPhone-style HEIC. */
const HEIF_ENC_MISSING = spawnSync("heif-enc", ["--help"], { stdio: "ignore" }).error !== undefined;
if (HEIF_ENC_MISSING && process.env.CI)
  throw new Error("The bundle test's HEIC needs heif-enc: apt-get install libheif-examples");

/** A HEIC of a PNG, encoded by heif-enc (HEVC, as an iPhone writes). */
function heic(png: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "thumbs-heic-"));
  try {
    writeFileSync(join(dir, "in.png"), png);
    execFileSync("heif-enc", ["-q", "60", join(dir, "in.png"), "-o", join(dir, "out.heic")], {
      stdio: "ignore",
    });
    return readFileSync(join(dir, "out.heic"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function succeeded(invocation: Invocation | undefined): unknown {
  if (!invocation?.ok) throw new Error(`invocation failed: ${JSON.stringify(invocation)}`);
  return invocation.result;
}

describe.skipIf(!found.runtime)("the synthesized bundles, run as Lambda runs them", () => {
  const runtime = found.runtime as LambdaRuntime;
  let cloud: LocalCloud;

  // Prepare (shared): the cloud assembly, and local stand-ins for what the template references.
  beforeAll(async () => {
    cloud = await startLocalCloud(readAssembly(inject("cdkOut")));
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  /** Runs events through a function's bundle against the stand-ins. */
  const invoke = (name: string, events: unknown[], arch: "host" | "arm64" = "host") =>
    invokeBundle(runtime, cloud.fn(name), events, { arch, region: REGION, overrides: cloud.overrides });

  it("plans, resizes on arm64 (a HEIC too), records the failure and answers the admin API: one small order", async () => {
    // Prepare: camera-style names, one of them not an image.
    const { emulator, redis } = cloud;
    const { s3, sqs } = emulator.clients;
    const orderId = `bundle-${randomUUID().slice(0, 8)}`;
    const prefix = `orders/${orderId}/`;
    const photo = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: { r: 200, g: 90, b: 40 } } });
    const good = {
      "IMG_0001.JPG": await photo(1600, 1200).jpeg().toBuffer(),
      "Été à Nice 03.png": await photo(1200, 1600).png().toBuffer(),
      "DSC 0042.webp": await photo(2000, 1000).webp().toBuffer(),
      // Decoded by libheif (WebAssembly) in the worker thread the bundle ships beside index.mjs.
      ...(HEIF_ENC_MISSING ? {} : { "IMG_0005.HEIC": heic(await photo(1512, 2016).png().toBuffer()) }),
    };
    const images = Object.keys(good).length;
    await uploadOrder(s3, emulator.resources.sourceBucket, prefix, [
      ...Object.entries(good).map(([name, data]) => ({ name, data })),
      { name: "notes.JPG", data: Buffer.from("not an image at all") },
    ]);
    const event = orderCompletedEvent(cloud.eventSource, {
      orderId,
      bucket: emulator.resources.sourceBucket,
      prefix,
    });

    // Act: the coordinator on this machine's arch; every slice on arm64 (qemu), through SNS events.
    const coordinator = await invoke("Coordinator", [event]);
    const slices = await drain(sqs, emulator.queueUrl);
    const worker = await invoke("Worker", slices.map(snsEventFromSqsBody), "arm64");
    // Its bundle carries only arm64 sharp (for thumbnails on demand), as deployed.
    const api = await invoke(
      "ErrorConsumer",
      [httpApiEvent("GET", `/orders/${orderId}`), httpApiEvent("GET", `/orders/${orderId}/errors`)],
      "arm64",
    );
    const announced = (await drain(sqs, emulator.orderEventsQueueUrl)).map((body) => JSON.parse(body));

    // Assess: what is in S3 and Redis, then what the functions said.
    expect(succeeded(coordinator.invocations[0])).toMatchObject({ orderId, total: images + 1 });
    expect(slices.length).toBeGreaterThan(0);
    for (const invocation of worker.invocations) succeeded(invocation);
    const { Contents = [] } = await s3.send(
      new ListObjectsV2Command({ Bucket: emulator.resources.thumbnailBucket, Prefix: `${orderId}/` }),
    );
    expect(Contents).toHaveLength(Object.keys(good).length * 2);
    for (const { Key } of Contents) {
      const body = await s3.send(new GetObjectCommand({ Bucket: emulator.resources.thumbnailBucket, Key }));
      const meta = await sharp(Buffer.from(await body.Body!.transformToByteArray())).metadata();
      const longest = Key!.includes("/large/") ? 1024 : 256;
      expect(Math.max(meta.width!, meta.height!), Key).toBe(longest);
    }
    // Redis, read with its own commands (docs/ARCHITECTURE.md, Redis layout): the template's prefix.
    const direct = redis.connect();
    const base = `thumbs:{${orderId}}`;
    const [plan, records, done, failed] = await Promise.all([
      direct.hgetall(`${base}:keys`),
      direct.hgetall(`${base}:errors`),
      direct.bitcount(`${base}:done`),
      direct.bitcount(`${base}:failed`),
    ]).finally(() => direct.disconnect());
    expect(Object.values(plan).sort()).toEqual(
      [...Object.keys(good), "notes.JPG"].map((name) => `${prefix}${name}`).sort(),
    );
    expect({ done, failed }).toEqual({ done: images, failed: 1 });
    const notesIndex = Number(Object.entries(plan).find(([, key]) => key.endsWith("/notes.JPG"))![0]);
    expect(Object.values(records).map((r) => JSON.parse(r))).toEqual([
      expect.objectContaining({ index: notesIndex, key: `${prefix}notes.JPG`, class: "Unsupported" }),
    ]);
    const [progress, errors] = api.invocations.map(
      (i) => succeeded(i) as { statusCode: number; body: string },
    );
    expect(progress!.statusCode).toBe(200);
    expect(JSON.parse(progress!.body)).toMatchObject({ orderId, total: images + 1, done: images, failed: 1 });
    expect(errors!.statusCode).toBe(200);
    expect(JSON.parse(errors!.body)).toMatchObject({
      total: 1,
      records: [
        expect.objectContaining({ index: notesIndex, key: `${prefix}notes.JPG`, class: "Unsupported" }),
      ],
    });
    expect(announced).toEqual([expect.objectContaining({ orderId })]);
    expect(cloud.secrets.requested.every((id) => id === cloud.secretArn)).toBe(true);
  }, 300_000);

  it("settles a dead-lettered slice: its images are failed, the order completes", async () => {
    // Prepare: a planned order whose slice SNS could not deliver (the subscription's DLQ gets the
    // SNS envelope itself).
    const { emulator, redis } = cloud;
    const { s3, sqs } = emulator.clients;
    const orderId = `dead-${randomUUID().slice(0, 8)}`;
    const prefix = `orders/${orderId}/`;
    await uploadOrder(s3, emulator.resources.sourceBucket, prefix, [
      { name: "IMG_0001.JPG", data: Buffer.from("never resized") },
      { name: "IMG_0002.JPG", data: Buffer.from("never resized") },
    ]);
    const planned = await invoke("Coordinator", [
      orderCompletedEvent(cloud.eventSource, { orderId, bucket: emulator.resources.sourceBucket, prefix }),
    ]);
    const [slice] = await drain(sqs, emulator.queueUrl);
    const sqsEvent = {
      Records: [
        {
          messageId: randomUUID(),
          receiptHandle: "handle",
          body: slice,
          attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()) },
          messageAttributes: {},
          md5OfBody: "",
          eventSource: "aws:sqs",
          eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:SliceDeliveryDlq`,
          awsRegion: REGION,
        },
      ],
    };

    // Act
    const settled = await invoke("DeadLetters", [sqsEvent]);
    const announced = (await drain(sqs, emulator.orderEventsQueueUrl)).map((body) => JSON.parse(body));

    // Assess
    succeeded(planned.invocations[0]);
    expect(succeeded(settled.invocations[0])).toEqual({ batchItemFailures: [] });
    const direct = redis.connect();
    const base = `thumbs:{${orderId}}`;
    const [records, failed] = await Promise.all([
      direct.hgetall(`${base}:errors`),
      direct.bitcount(`${base}:failed`),
    ]).finally(() => direct.disconnect());
    expect(failed).toBe(2);
    expect(
      Object.values(records)
        .map((r) => JSON.parse(r) as { key: string; class: string })
        .map(({ key, class: failureClass }) => ({ key, failureClass }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    ).toEqual([
      { key: `${prefix}IMG_0001.JPG`, failureClass: "ProcessingFailed" },
      { key: `${prefix}IMG_0002.JPG`, failureClass: "ProcessingFailed" },
    ]);
    expect(announced).toEqual([expect.objectContaining({ orderId })]);
    // Its memory, measured as the coordinator's is (coordinator-bundle-memory.test.ts).
    expect(settled.peakRssBytes).toBeLessThan(cloud.fn("DeadLetters").memoryMb * 2 ** 20 * 0.8);
  });
});

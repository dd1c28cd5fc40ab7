import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { ErrorRecord, OrderProgress, OrderThumbnailsCompleted } from "@thumbs/core";
import cliProgress from "cli-progress";
import { startAdminServer } from "./admin-server.js";
import { awaitOrder } from "./await-order.js";
import { cachedCameraPhotos, cachedPhotos, listFolder } from "./corpus.js";
import { downloadThumbnails, type Upload, type UploadFailure, uploadEach } from "./order-io.js";
import { brokenSamples } from "./sample-images.js";
import { type LocalStack, startLocalStack } from "./stack.js";
import { UploadError } from "./upload-errors.js";

export interface DemoOptions {
  /** Folder of images to upload as the order; default: a generated corpus (see `corpus`). */
  input?: string;
  images: number;
  /**
   * What to generate without `input`: camera-style photos (8-24 MP JPEG, PNG and WebP under camera
   * names, see camera-photos.ts), or uniform photo-like JPEGs of about `megapixels`.
   */
  corpus?: "camera" | "uniform";
  megapixels: number;
  broken: boolean;
  listing: "prefix" | "keys";
  workers?: number;
  sliceSize?: number;
  output: string;
  cacheDir: string;
  orderId?: string;
  progress: boolean;
  /** Keep the admin API and dashboard running after the order, until interrupted. */
  serve?: boolean;
  port?: number;
}

export interface DemoResult {
  progress: OrderProgress;
  errors: ErrorRecord[];
  wallMs: number;
  downloaded: number;
  outputDir: string;
  /** Files that could not be uploaded: the order ran without them. */
  uploadFailures: UploadFailure[];
  /** The order-thumbnails-completed event the backend received on the order-events topic. */
  event: OrderThumbnailsCompleted;
}

type Print = (line: string) => void;

/** The main job: one order through the whole local pipeline, with a live progress bar and a summary. */
export async function runDemo(options: DemoOptions, print: Print = console.log): Promise<DemoResult> {
  const orderId =
    options.orderId ??
    `demo-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}-${randomUUID().slice(0, 6)}`;
  const uploads = await collectUploads(options, print);

  print(
    `Starting the local pipeline (fauxqs S3/SNS/SQS, Redis, ${options.workers ?? "one per core"} worker processes)…`,
  );
  const stack = await startLocalStack({
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.sliceSize ? { sliceSize: options.sliceSize } : {}),
  });
  try {
    print(
      `Redis: ${stack.redisHandle.source} (${stack.redisHandle.url}); S3/SNS/SQS: fauxqs at ${stack.emulator.endpoint}`,
    );
    const { sourceBucket, thumbnailBucket } = stack.emulator.resources;
    const prefix = `orders/${orderId}/`;
    const { keys, failures } = await uploadEach(stack.emulator.clients.s3, sourceBucket, prefix, uploads);
    print(`Uploaded ${keys.length} originals to s3://${sourceBucket}/${prefix}`);
    if (failures.length > 0) {
      if (keys.length === 0) throw new UploadError(failures, uploads.length);
      print(`Could not upload ${failures.length} of ${uploads.length} files; the order runs without them:`);
      for (const f of failures) print(`  ${f.message}`);
    }

    const started = performance.now();
    const event =
      options.listing === "keys"
        ? {
            orderId,
            bucket: sourceBucket,
            keys: options.broken ? [...keys, `${prefix}broken-missing.jpg`] : keys,
          }
        : { orderId, bucket: sourceBucket, prefix };
    const plan = await stack.emitOrderCompleted({
      "detail-type": "order-completed",
      source: "demo",
      detail: event,
    });
    print(`Order ${orderId}: ${plan.total} images in ${plan.slices} slices`);

    const bar = options.progress
      ? new cliProgress.SingleBar(
          {
            format: "Resizing {bar} {value}/{total} | done {done} | failed {failed} | {duration_formatted}",
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(plan.total, 0, { done: 0, failed: 0 });
    const progress = await awaitOrder(stack.ledger, orderId, {
      onProgress: (p) => bar?.update(p.done + p.failed, { done: p.done, failed: p.failed }),
    });
    bar?.stop();
    const wallMs = performance.now() - started;

    const outputDir = resolve(options.output);
    await mkdir(outputDir, { recursive: true });
    const downloaded = await downloadThumbnails(
      stack.emulator.clients.s3,
      thumbnailBucket,
      `${orderId}/`,
      outputDir,
    );
    const errors = (
      await stack.ledger.listErrors(orderId, { offset: 0, limit: Math.max(1, progress.failed) })
    ).records;
    const completion = await stack.orderEvents.waitFor(orderId);
    const result = {
      progress,
      errors,
      wallMs,
      downloaded,
      outputDir: join(outputDir, orderId),
      uploadFailures: failures,
      event: completion,
    };
    printSummary(print, result);
    if (options.serve) await serveUntilInterrupted(stack, orderId, options.port, print);
    return result;
  } finally {
    await stack.stop();
  }
}

async function serveUntilInterrupted(
  stack: LocalStack,
  orderId: string,
  port: number | undefined,
  print: Print,
) {
  const admin = await startAdminServer(stack, port === undefined ? {} : { port });
  print("");
  print(`Dashboard: ${admin.dashboardUrl.replace("#", `?order=${encodeURIComponent(orderId)}#`)}`);
  print(`API:       ${admin.url}/api/orders/${orderId}  (Authorization: Bearer ${admin.token})`);
  print("Press Ctrl-C to stop.");
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  await admin.close();
}

async function collectUploads(options: DemoOptions, print: Print): Promise<Upload[]> {
  let uploads: Upload[];
  if (options.input) {
    uploads = await listFolder(options.input);
    print(`Found ${uploads.length} files in ${options.input}`);
  } else if (options.corpus === "uniform") {
    print(
      `Generating ${options.images} photo-like JPEGs (~${options.megapixels} MP, cached in ${options.cacheDir})…`,
    );
    const { files } = await cachedPhotos(options.cacheDir, options.images, {
      megapixels: options.megapixels,
    });
    uploads = files.map((path) => ({ name: basename(path), path }));
  } else {
    print(
      `Generating ${options.images} camera-style photos (8-24 MP JPEG, PNG and WebP, cached in ${options.cacheDir})…`,
    );
    const { files } = await cachedCameraPhotos(options.cacheDir, options.images);
    uploads = files.map((path) => ({ name: basename(path), path }));
  }
  if (options.broken) uploads.push(...(await brokenSamples()));
  return uploads;
}

function printSummary(print: Print, r: DemoResult): void {
  const { progress: p } = r;
  const seconds = r.wallMs / 1000;
  print("");
  print(`Order ${p.orderId}: ${p.status}`);
  print(`  images     ${p.total}`);
  print(`  done       ${p.done} (both thumbnails written)`);
  print(`  failed     ${p.failed}`);
  print(
    `  wall time  ${seconds.toFixed(2)} s from order-completed to completion (${(p.total / seconds).toFixed(1)} images/s)`,
  );
  print(`  thumbnails ${r.downloaded} files in ${r.outputDir}`);
  if (r.uploadFailures.length > 0)
    print(`  not uploaded ${r.uploadFailures.length} (listed above; not in the order)`);
  print(`  event      ${r.event.type} (${r.event.status}) on the order-events topic, for the backend`);
  if (r.errors.length > 0) {
    print("");
    print("Failed images:");
    for (const e of r.errors) print(`  ${e.key}\n    ${e.class}: ${e.message}\n    → ${e.advice}`);
  }
}

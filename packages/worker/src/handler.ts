import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  ContractError,
  connectRedis,
  OrderLedger,
  parseContract,
  SliceMessageSchema,
  SliceRefusedError,
} from "@thumbs/core";
import type { Context, SNSEvent } from "aws-lambda";
import { createWorkerS3 } from "./clients.js";
import { cpuShare, imageConcurrency } from "./concurrency.js";
import { loadWorkerConfig } from "./config.js";
import { applyHeapSettings } from "./heap-settings.js";
import { applyResizeSettings } from "./resize.js";
import { resizeSlice, type SliceReport } from "./resize-slice.js";

// Cold start: config validated, sharp and V8's heap set up for resizing, clients created once and
// reused by every invocation.
const config = loadWorkerConfig();
applyResizeSettings();
applyHeapSettings();
const concurrency = config.concurrency ?? imageConcurrency(cpuShare());
const s3 = createWorkerS3({ forcePathStyle: config.s3ForcePathStyle, concurrency });
const sns = new SNSClient({});
const redis = await connectRedis(config.redis);
const ledger = new OrderLedger(redis, {
  keyPrefix: config.redis.keyPrefix,
  ttlSeconds: config.redis.ttlSeconds,
});
const logger = new Logger({ serviceName: "thumbs-worker" });
const metrics = new Metrics({ namespace: "Thumbs", serviceName: "thumbs-worker" });

/**
 * SNS → one slice per record. Throws only when a slice could not be accounted for, so it is retried. A
 * slice that is malformed or does not match its order's plan is refused: logged as an error, counted
 * (SlicesRefused), noted on the order, and not retried, since no retry can make it valid.
 */
export async function handler(event: SNSEvent, context?: Context): Promise<SliceReport[]> {
  if (context) logger.addContext(context);
  const reports: SliceReport[] = [];
  try {
    for (const record of event.Records) {
      const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
      let report: SliceReport;
      try {
        const slice = parseContract(SliceMessageSchema, parseJson(record.Sns.Message), "slice message");
        const owner = context?.awsRequestId || randomUUID();
        report = await resizeSlice(
          { s3, sns, ledger, config, concurrency, owner, ...(remainingMs ? { remainingMs } : {}) },
          slice,
        );
      } catch (error) {
        if (!(error instanceof ContractError || error instanceof SliceRefusedError)) throw error;
        await refuse(error, record.Sns.Message);
        continue;
      }
      reports.push(report);
      recordMetrics(report);
      logger.info("slice resized", {
        orderId: report.orderId,
        sliceIndex: report.sliceIndex,
        done: report.done,
        failed: report.failed,
        skipped: report.skipped,
        deferred: report.deferred,
        handedBack: report.handedBack,
        attempt: report.attempt,
        completedOrder: report.completedOrder,
        announcedOrder: report.announcedOrder,
        ms: Math.round(report.ms),
      });
      for (const image of report.images) {
        if (image.status === "failed") logger.warn("image failed", { orderId: report.orderId, ...image });
      }
    }
  } finally {
    metrics.publishStoredMetrics();
  }
  return reports;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ContractError(`The slice message is not JSON (${(error as Error).message}).`, [], {
      cause: error,
    });
  }
}

async function refuse(error: ContractError | SliceRefusedError, message: string): Promise<void> {
  const orderId = error instanceof SliceRefusedError ? error.orderId : orderIdOf(message);
  logger.error("slice refused", { orderId, reason: error.message, bytes: message.length });
  metrics.addMetric("SlicesRefused", MetricUnit.Count, 1);
  if (orderId) await ledger.recordRejectedSlice(orderId, error.message);
}

/** The order id of a message that failed validation, when it has a well-formed one. */
function orderIdOf(message: string): string | undefined {
  const match = /"orderId"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,127})"/.exec(message.slice(0, 4096));
  return match?.[1];
}

function recordMetrics(report: SliceReport): void {
  metrics.addMetric("ImagesResized", MetricUnit.Count, report.done);
  metrics.addMetric("ImagesFailed", MetricUnit.Count, report.failed);
  metrics.addMetric("ImagesSkipped", MetricUnit.Count, report.skipped);
  metrics.addMetric("ImagesDeferred", MetricUnit.Count, report.deferred);
  metrics.addMetric("ImagesHandedBack", MetricUnit.Count, report.handedBack);
  metrics.addMetric("SliceMs", MetricUnit.Milliseconds, report.ms);
  for (const image of report.images) {
    if (image.status === "done") metrics.addMetric("ImageMs", MetricUnit.Milliseconds, image.ms);
  }
  if (report.completedOrder) metrics.addMetric("OrdersCompleted", MetricUnit.Count, 1);
  if (report.announcedOrder) metrics.addMetric("OrderEventsPublished", MetricUnit.Count, 1);
}

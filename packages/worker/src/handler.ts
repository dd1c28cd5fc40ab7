import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SNSClient } from "@aws-sdk/client-sns";
import { connectRedis, OrderLedger, parseContract, SliceMessageSchema } from "@thumbs/core";
import type { Context, SNSEvent } from "aws-lambda";
import { createWorkerS3 } from "./clients.js";
import { cpuShare, imageConcurrency } from "./concurrency.js";
import { loadWorkerConfig } from "./config.js";
import { resizeSlice, type SliceReport } from "./resize-slice.js";

// Cold start: config validated, clients created once and reused by every invocation.
const config = loadWorkerConfig();
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

/** SNS → one slice per record. Throws only when a slice could not be accounted for, so it is retried. */
export async function handler(event: SNSEvent, context?: Context): Promise<SliceReport[]> {
  if (context) logger.addContext(context);
  const reports: SliceReport[] = [];
  try {
    for (const record of event.Records) {
      const slice = parseContract(SliceMessageSchema, JSON.parse(record.Sns.Message), "slice message");
      const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
      const report = await resizeSlice(
        { s3, sns, ledger, config, concurrency, ...(remainingMs ? { remainingMs } : {}) },
        slice,
      );
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

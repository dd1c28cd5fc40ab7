import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { ContractError, connectRedis, OrderLedger } from "@thumbs/core";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { loadDeadLetterConfig } from "./config.js";
import { deadSlicesFromMessage, settleDeadSlice } from "./dead-slice.js";

// Cold start: config validated, clients created once and reused by every invocation.
const config = loadDeadLetterConfig();
const sns = new SNSClient({});
const s3 = new S3Client({ forcePathStyle: config.s3ForcePathStyle });
const redis = await connectRedis(config.redis);
const ledger = new OrderLedger(redis, {
  keyPrefix: config.redis.keyPrefix,
  ttlSeconds: config.redis.ttlSeconds,
});
const logger = new Logger({ serviceName: "thumbs-dead-letters" });
const metrics = new Metrics({ namespace: "Thumbs", serviceName: "thumbs-dead-letters" });
const processor = new BatchProcessor(EventType.SQS);

/**
 * One dead-letter message (the worker's on-failure destination, or the slice subscription's DLQ):
 * its slices' pending images are recorded as ProcessingFailed, so no order waits on them forever.
 */
async function settleRecord(record: SQSRecord): Promise<void> {
  let dead: ReturnType<typeof deadSlicesFromMessage>;
  try {
    dead = deadSlicesFromMessage(record.body);
  } catch (error) {
    if (!(error instanceof ContractError || error instanceof SyntaxError)) throw error;
    // Not a slice at all: nothing to settle, and a retry cannot change that. Logged for a human.
    logger.error("dead letter is not a slice", {
      messageId: record.messageId,
      reason: (error as Error).message,
    });
    metrics.addMetric("DeadLettersUnreadable", MetricUnit.Count, 1);
    return;
  }
  for (const entry of dead) {
    const report = await settleDeadSlice(
      { ledger, sns, s3, thumbnails: config.thumbnails, orderEventsTopicArn: config.orderEventsTopicArn },
      entry,
    );
    logger.warn("dead slice settled", { ...report, lastError: entry.lastError });
    metrics.addMetric("ImagesDeadLettered", MetricUnit.Count, report.recorded);
    if (report.announced) metrics.addMetric("OrderEventsPublished", MetricUnit.Count, 1);
  }
}

/** SQS → settles each message; a message that could not be settled (Redis down) is retried alone. */
export async function handler(event: SQSEvent, context: Context) {
  logger.addContext(context);
  try {
    return await processPartialResponse(event, settleRecord, processor, { context });
  } finally {
    metrics.publishStoredMetrics();
  }
}

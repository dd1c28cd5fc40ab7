import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { connectRedis, OrderConflictError, OrderLedger } from "@thumbs/core";
import type { Context } from "aws-lambda";
import { createCoordinatorClients } from "./clients.js";
import { loadCoordinatorConfig } from "./config.js";
import { type PlanReport, planOrder } from "./plan-order.js";

const config = loadCoordinatorConfig();
const { s3, sns } = createCoordinatorClients({ forcePathStyle: config.s3ForcePathStyle });
const redis = await connectRedis(config.redis);
const ledger = new OrderLedger(redis, {
  keyPrefix: config.redis.keyPrefix,
  ttlSeconds: config.redis.ttlSeconds,
});
const logger = new Logger({ serviceName: "thumbs-coordinator" });
const metrics = new Metrics({ namespace: "Thumbs", serviceName: "thumbs-coordinator" });

/** EventBridge order-completed event (or its detail, invoked directly) → planned and published slices. */
export async function handler(event: unknown, context?: Context): Promise<PlanReport> {
  if (context) logger.addContext(context);
  try {
    const report = await planOrder({ s3, sns, ledger, config }, event);
    logger.info("order planned", { ...report });
    metrics.addMetric("OrdersPlanned", MetricUnit.Count, 1);
    metrics.addMetric("ImagesPlanned", MetricUnit.Count, report.total);
    metrics.addMetric("SlicesPublished", MetricUnit.Count, report.slices);
    return report;
  } catch (error) {
    // A conflicting event is refused loudly: logged, counted, and thrown, so it ends in the
    // coordinator's failure queue (alarmed) with the event kept for inspection.
    if (error instanceof OrderConflictError) metrics.addMetric("OrderEventsRefused", MetricUnit.Count, 1);
    logger.error("order planning failed", error as Error);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

import { type CloudWatchLogsClient, paginateFilterLogEvents } from "@aws-sdk/client-cloudwatch-logs";
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { ORDER_COMPLETED_DETAIL_TYPE } from "@thumbs/core";
import pWaitFor from "p-wait-for";
import type { RunObservation } from "../analyze.js";
import type { Progress } from "../progress.js";
import type { AdminOrder, adminApiClient } from "./admin-api.js";
import type { StackOutputs } from "./stack-outputs.js";
import { type LogEvent, summarizeWorkerLogs, type WorkerLogSummary } from "./worker-logs.js";

export interface AwsOrderContext {
  outputs: StackOutputs;
  lambda: LambdaClient;
  events: EventBridgeClient;
  logs: CloudWatchLogsClient;
  admin: ReturnType<typeof adminApiClient>;
  workerLogGroup: string;
  trigger: "invoke" | "event";
  eventSource: string;
  prefix: string;
  totalBytes: number;
  timeoutMs: number;
  logWaitMs: number;
  pollMs?: number;
}

export interface AwsOrderRun {
  observation: RunObservation;
  logs: WorkerLogSummary;
}

/**
 * One order on the deployed stack: emit order-completed (invoke the coordinator, or PutEvents to the
 * stack's bus), poll the admin API until complete, then read the workers' logs for its slices.
 */
export async function runAwsOrder(
  ctx: AwsOrderContext,
  label: string,
  orderId: string,
  progress: Progress,
): Promise<AwsOrderRun> {
  const detail = { orderId, bucket: ctx.outputs.SourceBucketName, prefix: ctx.prefix };
  const originEpochMs = Date.now();
  const started = performance.now();
  await emit(ctx, detail);
  const order = await awaitAwsOrder(ctx, label, orderId, progress);
  const observedMs = performance.now() - started;
  progress.stop();
  // completedAt is stamped by the worker that finished the order (Lambda's clock); trust it only
  // when it is consistent with what polling saw, i.e. the two clocks are not visibly apart.
  const serverMs = order.completedAt ? Date.parse(order.completedAt) - originEpochMs : Number.NaN;
  const useServer = serverMs > 0 && serverMs <= observedMs;
  progress.status(`Reading the worker logs of ${orderId} (CloudWatch Logs ingestion takes a few seconds)…`);
  const logs = await readWorkerLogs(ctx, orderId, originEpochMs, order.done + order.failed);
  return {
    logs,
    observation: {
      label,
      orderId,
      progress: order,
      wallMs: useServer ? serverMs : observedMs,
      wallSource: useServer
        ? `completedAt recorded by the last worker (polling saw it at ${(observedMs / 1000).toFixed(2)} s)`
        : `admin API poll every ${ctx.pollMs ?? 250} ms (completedAt was not consistent with this machine's clock)`,
      originEpochMs,
      totalBytes: ctx.totalBytes,
      slices: logs.slices,
      sliceFailures: [],
      peakRss: new Map([...logs.peakMemoryMb].map(([lane, mb]) => [lane, mb * 1024 * 1024])),
      errors: await ctx.admin.listErrors(orderId),
      imageMsFromMetrics: logs.imageMs,
    },
  };
}

async function emit(ctx: AwsOrderContext, detail: Record<string, string>): Promise<void> {
  if (ctx.trigger === "event") {
    const out = await ctx.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: ctx.outputs.EventBusName,
            Source: ctx.eventSource,
            DetailType: ORDER_COMPLETED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if (out.FailedEntryCount) {
      throw new Error(
        `EventBridge refused the order-completed event: ${out.Entries?.[0]?.ErrorCode} ${out.Entries?.[0]?.ErrorMessage}.`,
      );
    }
    return;
  }
  const out = await ctx.lambda.send(
    new InvokeCommand({
      FunctionName: ctx.outputs.CoordinatorFunctionName,
      InvocationType: "RequestResponse",
      Payload: new TextEncoder().encode(JSON.stringify(detail)),
    }),
  );
  if (out.FunctionError) {
    throw new Error(
      `The coordinator failed (${out.FunctionError}): ${new TextDecoder().decode(out.Payload).slice(0, 500)}`,
    );
  }
}

/** Polls the admin API until the order is complete, moving the progress bar. */
async function awaitAwsOrder(
  ctx: AwsOrderContext,
  label: string,
  orderId: string,
  progress: Progress,
): Promise<AdminOrder> {
  let order: AdminOrder | undefined;
  progress.start(`Resizing (${label})`, 1, { done: 0, failed: 0 });
  const complete = async () => {
    const seen = order;
    order = await ctx.admin.getOrder(orderId);
    // The bar's total is known once the coordinator has recorded the order.
    if (order && !seen) {
      progress.stop();
      progress.start(`Resizing (${label})`, order.total, { done: 0, failed: 0 });
    }
    if (order) progress.update(order.done + order.failed, { done: order.done, failed: order.failed });
    return order?.complete === true;
  };
  await pWaitFor(complete, {
    interval: ctx.pollMs ?? 250,
    timeout: {
      milliseconds: ctx.timeoutMs,
      fallback: () => {
        throw new Error(
          `Order ${orderId} did not complete within ${ctx.timeoutMs / 1000} s (${order ? `${order.done} done, ${order.failed} failed of ${order.total}` : "the coordinator never recorded it"}). ` +
            "Check the coordinator's and worker's logs and the dead-letter queues.",
        );
      },
    },
  });
  return order!;
}

/**
 * The worker log events of a run, read until every accounted image's slice line is in (CloudWatch
 * Logs delivers with a delay) or `logWaitMs` has passed.
 */
async function readWorkerLogs(
  ctx: AwsOrderContext,
  orderId: string,
  fromEpochMs: number,
  accounted: number,
): Promise<WorkerLogSummary> {
  let summary = summarizeWorkerLogs([], orderId);
  const allLogged = async () => {
    const events: LogEvent[] = [];
    const input = { logGroupName: ctx.workerLogGroup, startTime: fromEpochMs - 2_000, endTime: Date.now() };
    for await (const page of paginateFilterLogEvents({ client: ctx.logs }, input)) {
      for (const e of page.events ?? [])
        events.push({
          logStreamName: e.logStreamName ?? "",
          timestamp: e.timestamp ?? 0,
          message: e.message ?? "",
        });
    }
    summary = summarizeWorkerLogs(events, orderId);
    return summary.slices.reduce((sum, s) => sum + s.done + s.failed, 0) >= accounted;
  };
  await pWaitFor(allLogged, {
    interval: 5_000,
    timeout: { milliseconds: ctx.logWaitMs, fallback: () => undefined },
  });
  return summary;
}

import { type CloudWatchLogsClient, paginateFilterLogEvents } from "@aws-sdk/client-cloudwatch-logs";
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { ORDER_COMPLETED_DETAIL_TYPE } from "@thumbs/core";
import pWaitFor from "p-wait-for";
import type { RunObservation } from "../analyze.js";
import type { Progress } from "../progress.js";
import type { AdminOrder, adminApiClient } from "./admin-api.js";
import type { StackOutputs } from "./stack-outputs.js";
import { summarizeWorkerLogs, type WorkerLogSummary } from "./worker-logs.js";

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

/** One order on the stack: emit order-completed, poll the admin API until complete, then read the workers' logs. */
export async function runAwsOrder(
  ctx: AwsOrderContext,
  label: string,
  orderId: string,
  progress: Progress,
): Promise<{ observation: RunObservation; logs: WorkerLogSummary }> {
  const pollMs = ctx.pollMs ?? 250;
  const originEpochMs = Date.now();
  const started = performance.now();
  await emit(ctx, { orderId, bucket: ctx.outputs.SourceBucketName, prefix: ctx.prefix });
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
  const timedOut = () => {
    const counts = order ? `${order.done} done, ${order.failed} failed of ${order.total}` : "never recorded";
    throw new Error(`Order ${orderId} did not complete within ${ctx.timeoutMs / 1000} s (${counts}).`);
  };
  await pWaitFor(complete, {
    interval: pollMs,
    timeout: { milliseconds: ctx.timeoutMs, fallback: timedOut },
  });
  const done = order!;
  const observedMs = performance.now() - started;
  progress.stop();
  // completedAt is stamped on Lambda's clock: trust it only when polling saw the order complete after it.
  const serverMs = done.completedAt ? Date.parse(done.completedAt) - originEpochMs : Number.NaN;
  const useServer = serverMs > 0 && serverMs <= observedMs;
  progress.status(`Reading the worker logs of ${orderId} (CloudWatch Logs ingestion takes a few seconds)…`);
  const logs = await readWorkerLogs(ctx, orderId, originEpochMs, done.done + done.failed);
  const observation: RunObservation = {
    label,
    orderId,
    progress: done,
    wallMs: useServer ? serverMs : observedMs,
    wallSource: useServer
      ? `completedAt recorded by the last worker (polling saw it at ${(observedMs / 1000).toFixed(2)} s)`
      : `admin API poll every ${pollMs} ms (completedAt was not consistent with this machine's clock)`,
    originEpochMs,
    totalBytes: ctx.totalBytes,
    slices: logs.slices,
    sliceFailures: [],
    peakRss: new Map([...logs.peakMemoryMb].map(([lane, mb]) => [lane, mb * 1024 * 1024])),
    errors: await ctx.admin.listErrors(orderId),
    imageMsFromMetrics: logs.imageMs,
  };
  return { observation, logs };
}

async function emit(ctx: AwsOrderContext, detail: Record<string, string>): Promise<void> {
  if (ctx.trigger === "event") {
    const entry = {
      EventBusName: ctx.outputs.EventBusName,
      Source: ctx.eventSource,
      DetailType: ORDER_COMPLETED_DETAIL_TYPE,
      Detail: JSON.stringify(detail),
    };
    const out = await ctx.events.send(new PutEventsCommand({ Entries: [entry] }));
    const failed = out.FailedEntryCount ? out.Entries?.[0] : undefined;
    if (failed) throw new Error(`EventBridge refused the event: ${failed.ErrorCode} ${failed.ErrorMessage}.`);
    return;
  }
  const payload = new TextEncoder().encode(JSON.stringify(detail));
  const out = await ctx.lambda.send(
    new InvokeCommand({ FunctionName: ctx.outputs.CoordinatorFunctionName, Payload: payload }),
  );
  if (out.FunctionError) {
    throw new Error(
      `The coordinator failed (${out.FunctionError}): ${new TextDecoder().decode(out.Payload).slice(0, 500)}`,
    );
  }
}

/** The run's worker log events, read until every accounted image's slice line is in or `logWaitMs` has passed. */
async function readWorkerLogs(ctx: AwsOrderContext, orderId: string, fromEpochMs: number, accounted: number) {
  let summary = summarizeWorkerLogs([], orderId);
  const allLogged = async () => {
    const input = { logGroupName: ctx.workerLogGroup, startTime: fromEpochMs - 2_000, endTime: Date.now() };
    const events = [];
    for await (const page of paginateFilterLogEvents({ client: ctx.logs }, input)) {
      for (const e of page.events ?? []) {
        events.push({
          logStreamName: e.logStreamName ?? "",
          timestamp: e.timestamp ?? 0,
          message: e.message ?? "",
        });
      }
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

/**
 * One local "Lambda worker": receives SNS notifications from the slice queue one at a time and runs
 * the real worker handler on each, as Lambda would. A message is deleted only when the handler
 * succeeds; otherwise it becomes visible again and is redelivered (then dead-lettered), like SNS → Lambda.
 * Started by worker-pool.ts with the environment a Lambda would have.
 */

import { randomUUID } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { handler } from "@thumbs/worker/handler";
import { loadLocalWorkerConfig } from "./config.js";
import { startCpuProfile } from "./cpu-profile.js";
import { localContext, snsEventFromSqsBody } from "./sns-event.js";
import type { WorkerProcessMessage } from "./worker-pool.js";

const local = loadLocalWorkerConfig();
const { queueUrl, functionTimeoutMs: timeoutMs, visibilityTimeoutSeconds: visibilitySeconds } = local;
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
let stopping = false;
/** Deletes of done slices' messages still under way (poll() does not wait for them). */
const deleting = new Set<Promise<void>>();

/**
 * TEST-ONLY fault injection, local runtime only (never set on Lambda): when LOCAL_FAULT_CRASH_ON is
 * set, a GET whose decoded path contains it (e.g. "POISON" in an original's key) kills this process
 * with SIGKILL ~100 ms later, as a decoder crash on a poison image would — the other images in flight
 * are mid-work, the message is not deleted, and it is redelivered (the worker's own crash count then
 * records the image as Crashed; a slice that still fails every delivery is dead-lettered).
 * A small image can be resized within those 100 ms, so a PUT of its thumbnail (whose key keeps the
 * source's base name: use a plain alphanumeric marker) kills the process at once: a poison image is
 * never recorded done.
 */
const { crashOn } = local;
if (crashOn) {
  const crash = () => process.kill(process.pid, "SIGKILL");
  const onRequest = (request: { method?: string; path: string }) => {
    if (!decodedPath(request.path).includes(crashOn)) return;
    if (request.method === "GET") setTimeout(crash, 100);
    else if (request.method === "PUT") crash();
  };
  // The worker's image GETs and PUTs go through undici; the SDK's other requests through node:http.
  subscribe("undici:request:create", (message) => onRequest((message as { request: UndiciRequest }).request));
  subscribe("http.client.request.start", (message) =>
    onRequest((message as { request: ClientRequest }).request),
  );
}

interface UndiciRequest {
  method: string;
  path: string;
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // not valid percent-encoding: match the raw path
  }
}

// Full GCs stop the main thread to mark the whole heap: the load test counts them beside the CPU
// (the worker's heap-settings.ts is about how often they run).
const fullGcs = { count: 0, ms: 0 };
new PerformanceObserver((entries) => {
  for (const entry of entries.getEntries()) {
    const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
    if (detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    fullGcs.count += 1;
    fullGcs.ms += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

const send = (message: WorkerProcessMessage) => process.send?.(message);
// Slice times on a clock that never steps (Date.now() follows the system clock, which NTP may step
// mid-run), in epoch ms as of this process's start.
const clockMs = () => performance.timeOrigin + performance.now();
process.on("message", (m) => {
  if (m === "stop") stopping = true;
  // The load test's CPU account asks before and after an order; only the process itself knows its
  // CPU time on every platform.
  if (m === "cpu") {
    const { user, system } = process.cpuUsage();
    send({
      type: "cpu",
      pid: process.pid,
      cpuMs: (user + system) / 1000,
      fullGcs: fullGcs.count,
      fullGcMs: fullGcs.ms,
    });
  }
});
process.on("disconnect", () => {
  stopping = true;
});

// The load test's --cpu-prof sets this: profile the worker's main thread from here to a clean exit.
const stopProfile = await startCpuProfile(local.cpuProfileDir);

async function poll(): Promise<void> {
  send({ type: "ready", pid: process.pid });
  while (!stopping) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      const started = clockMs();
      // Lambda never retries an invocation while it runs: keep the message invisible while this one
      // does, so only a dead (or failed) invocation's message is delivered again.
      const keepInvisible = setInterval(
        () =>
          void sqs
            .send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: queueUrl,
                ReceiptHandle: message.ReceiptHandle,
                VisibilityTimeout: visibilitySeconds,
              }),
            )
            .catch(() => undefined),
        (visibilitySeconds * 1000) / 4,
      );
      try {
        // A request id of its own per delivery, as Lambda gives each SNS delivery.
        const reports = await handler(
          snsEventFromSqsBody(message.Body ?? "{}"),
          localContext("thumbs-worker", timeoutMs, `${message.MessageId ?? ""}/${randomUUID().slice(0, 8)}`),
        );
        // On AWS nothing is left to do once the handler returns (SNS invoked it): this emulation's
        // delete does not hold the "instance" from its next delivery. A failed delete only delivers
        // the slice again, which a worker skips as done (a duplicate delivery).
        const deleted: Promise<void> = sqs
          .send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }))
          .then(
            () => undefined,
            (error: unknown) =>
              console.error(
                `worker ${process.pid}: could not delete a done slice's message: ${(error as Error).message}`,
              ),
          )
          .finally(() => deleting.delete(deleted));
        deleting.add(deleted);
        send({
          type: "slices",
          pid: process.pid,
          reports,
          started,
          ended: clockMs(),
          rss: process.memoryUsage().rss,
        });
      } catch (error) {
        send({
          type: "slice-failed",
          pid: process.pid,
          error: (error as Error).message,
          started,
          ended: clockMs(),
        });
      } finally {
        clearInterval(keepInvisible);
      }
    }
  }
  await Promise.all(deleting);
  await stopProfile();
  process.exit(0);
}

poll().catch((error) => {
  console.error(`worker ${process.pid} stopped: ${(error as Error).stack}`);
  process.exit(1);
});

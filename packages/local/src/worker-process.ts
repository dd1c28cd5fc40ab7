/**
 * One local "Lambda worker": receives SNS notifications from the slice queue one at a time and runs
 * the real worker handler on each, as Lambda would. A message is deleted only when the handler
 * succeeds; otherwise it becomes visible again and is redelivered (then dead-lettered), like SNS → Lambda.
 * Started by worker-pool.ts with the environment a Lambda would have.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { handler } from "@thumbs/worker/handler";
import { localContext, snsEventFromSqsBody } from "./sns-event.js";
import type { WorkerProcessMessage } from "./worker-pool.js";

const queueUrl = process.env.SLICE_QUEUE_URL;
if (!queueUrl)
  throw new Error("Environment variable SLICE_QUEUE_URL is required (the local slice queue URL).");
const timeoutMs = Number(process.env.LOCAL_FUNCTION_TIMEOUT_MS ?? 120_000);
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
let stopping = false;

const send = (message: WorkerProcessMessage) => process.send?.(message);
process.on("message", (m) => {
  if (m === "stop") stopping = true;
});
process.on("disconnect", () => {
  stopping = true;
});

async function poll(): Promise<void> {
  send({ type: "ready", pid: process.pid });
  while (!stopping) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      const started = Date.now();
      try {
        const reports = await handler(
          snsEventFromSqsBody(message.Body ?? "{}"),
          localContext("thumbs-worker", timeoutMs, message.MessageId ?? ""),
        );
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        send({
          type: "slices",
          pid: process.pid,
          reports,
          started,
          ended: Date.now(),
          rss: process.memoryUsage().rss,
        });
      } catch (error) {
        send({
          type: "slice-failed",
          pid: process.pid,
          error: (error as Error).message,
          started,
          ended: Date.now(),
        });
      }
    }
  }
  process.exit(0);
}

poll().catch((error) => {
  console.error(`worker ${process.pid} stopped: ${(error as Error).stack}`);
  process.exit(1);
});

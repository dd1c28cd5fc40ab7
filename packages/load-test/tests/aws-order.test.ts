import { CloudWatchLogsClient, type FilterLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { describe, expect, it, vi } from "vitest";
import type { AdminOrder, adminApiClient } from "../src/aws/admin-api.js";
import { type AwsOrderContext, runAwsOrder } from "../src/aws/aws-order.js";
import type { StackOutputs } from "../src/aws/stack-outputs.js";
import { createProgress } from "../src/progress.js";

const order = (done: number, complete: boolean): AdminOrder => ({
  total: 4,
  done,
  failed: 0,
  slices: 2,
  status: complete ? "succeeded" : "running",
  complete,
  completedAt: null,
});

const sliceLine = (sliceIndex: number) =>
  JSON.stringify({
    message: "slice resized",
    orderId: "o-1",
    sliceIndex,
    done: 2,
    failed: 0,
    skipped: 0,
    ms: 500,
  });

describe("--target aws, one order against stand-ins for the stack", () => {
  it("polls the admin API until complete and reads every page of the worker logs", async () => {
    // Prepare: the coordinator records the order on the second poll, it completes on the third;
    // the worker log group answers in two pages, one slice line each
    const answers = [undefined, order(2, false), order(4, true)];
    const getOrder = vi.fn(async () => answers[Math.min(getOrder.mock.calls.length, answers.length) - 1]);
    const logs = new CloudWatchLogsClient({ region: "us-east-1" });
    const pages: Array<Partial<FilterLogEventsCommandOutput>> = [
      {
        events: [{ logStreamName: "s/aaaaaaaa", timestamp: 2_000, message: sliceLine(0) }],
        nextToken: "next",
      },
      { events: [{ logStreamName: "s/bbbbbbbb", timestamp: 2_500, message: sliceLine(1) }] },
    ];
    vi.spyOn(logs, "send").mockImplementation(async () => pages.shift());
    const ctx: AwsOrderContext = {
      outputs: { SourceBucketName: "originals", CoordinatorFunctionName: "coordinator" } as StackOutputs,
      lambda: { send: async () => ({}) } as unknown as LambdaClient,
      events: undefined as never,
      logs,
      admin: { getOrder, listErrors: async () => [] } as unknown as ReturnType<typeof adminApiClient>,
      workerLogGroup: "/aws/lambda/worker",
      trigger: "invoke",
      eventSource: "test",
      prefix: "load-test/c/",
      totalBytes: 4e6,
      timeoutMs: 60_000,
      logWaitMs: 60_000,
      pollMs: 1,
    };

    // Act
    const { observation, logs: summary } = await runAwsOrder(
      ctx,
      "cold",
      "o-1",
      createProgress({ bar: false, print: () => {} }),
    );

    // Assess
    expect(getOrder).toHaveBeenCalledTimes(3);
    expect(observation.progress).toMatchObject({ total: 4, done: 4, status: "succeeded" });
    expect(observation.wallSource).toMatch(/admin API poll every 1 ms/);
    expect(summary.slices.map((s) => [s.lane, s.sliceIndex, s.done])).toEqual([
      ["aaaaaaaa", 0, 2],
      ["bbbbbbbb", 1, 2],
    ]);
  });
});

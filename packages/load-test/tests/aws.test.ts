import { describe, expect, it } from "vitest";
import { regionFromApiUrl, signAdminGet } from "../src/aws/admin-api.js";
import { parseStackOutputs, REQUIRED_OUTPUTS } from "../src/aws/stack-outputs.js";
import { type LogEvent, parseWorkerLogLine, summarizeWorkerLogs } from "../src/aws/worker-logs.js";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

describe("--target aws, pure parts", () => {
  it("reads the stack outputs by name and names the missing ones", () => {
    // Prepare
    const outputs = REQUIRED_OUTPUTS.map((k) => ({ OutputKey: k, OutputValue: `${k}-value` }));

    // Act
    const parsed = parseStackOutputs("Thumbs", outputs);

    // Assess
    expect(parsed.WorkerFunctionName).toBe("WorkerFunctionName-value");
    expect(() => parseStackOutputs("Thumbs", outputs.slice(2))).toThrow(
      /lacks the outputs SourceBucketName, ThumbnailBucketName .*--stack-name/,
    );
  });

  it("finds the region of an API Gateway URL", () => {
    // Act / Assess
    expect(regionFromApiUrl("https://abc123.execute-api.eu-west-1.amazonaws.com/")).toBe("eu-west-1");
    expect(() => regionFromApiUrl("https://admin.example.com/")).toThrow(/--region/);
  });

  it("signs admin API requests with SigV4 for execute-api", async () => {
    // Prepare
    const date = new Date("2025-01-31T12:00:00Z");
    const sign = () =>
      signAdminGet(
        "https://abc123.execute-api.us-east-1.amazonaws.com/",
        "/orders/A-1/errors",
        { offset: "0", limit: "100" },
        { ...credentials, sessionToken: "session" },
        "us-east-1",
        date,
      );

    // Act: twice, the same request at the same time must sign the same
    const signed = await sign();
    const again = await sign();

    // Assess
    expect(signed.url).toBe(
      "https://abc123.execute-api.us-east-1.amazonaws.com/orders/A-1/errors?limit=100&offset=0",
    );
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250131\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(signed.headers["x-amz-date"]).toBe("20250131T120000Z");
    expect(signed.headers["x-amz-security-token"]).toBe("session");
    expect(again.headers.authorization).toBe(signed.headers.authorization);
  });

  it("parses the worker's slice line, EMF metrics and both REPORT formats", () => {
    // Prepare
    const slice = JSON.stringify({
      level: "INFO",
      message: "slice resized",
      orderId: "o",
      sliceIndex: 3,
      done: 24,
      failed: 1,
      skipped: 0,
      ms: 1234,
    });
    const emf = JSON.stringify({
      _aws: { Timestamp: 1, CloudWatchMetrics: [] },
      ImageMs: [40.5, 41],
      SliceMs: 1234,
    });
    const text =
      "REPORT RequestId: r1\tDuration: 1300.50 ms\tBilled Duration: 1301 ms\tMemory Size: 1769 MB\tMax Memory Used: 310 MB\tInit Duration: 612.25 ms\t";
    const json = JSON.stringify({
      type: "platform.report",
      record: {
        metrics: { durationMs: 900, billedDurationMs: 901, memorySizeMB: 1769, maxMemoryUsedMB: 300 },
      },
    });

    // Act / Assess
    expect(parseWorkerLogLine(slice)).toEqual({
      kind: "slice",
      orderId: "o",
      sliceIndex: 3,
      ms: 1234,
      done: 24,
      failed: 1,
      skipped: 0,
      deferred: 0,
      handedBack: 0,
    });
    expect(parseWorkerLogLine(emf)).toEqual({ kind: "metrics", imageMs: [40.5, 41], sliceMs: [1234] });
    expect(parseWorkerLogLine(text)).toEqual({
      kind: "report",
      durationMs: 1300.5,
      billedMs: 1301,
      memoryMb: 1769,
      maxMemoryMb: 310,
      initMs: 612.25,
    });
    expect(parseWorkerLogLine(json)).toMatchObject({ kind: "report", billedMs: 901, initMs: undefined });
    expect(parseWorkerLogLine("START RequestId: r1")).toBeUndefined();
    expect(parseWorkerLogLine("{not json")).toBeUndefined();
  });

  it("attributes metrics and REPORT lines to the order's invocations per log stream", () => {
    // Prepare: stream A handles our slice cold; stream B handles another order's slice
    const line = (logStreamName: string, timestamp: number, message: object | string): LogEvent => ({
      logStreamName,
      timestamp,
      message: typeof message === "string" ? message : JSON.stringify(message),
    });
    const events = [
      line("2025/01/31/[$LATEST]aaaaaaaa", 5_000, {
        message: "slice resized",
        orderId: "ours",
        sliceIndex: 0,
        done: 2,
        failed: 0,
        skipped: 0,
        ms: 1_000,
      }),
      line("2025/01/31/[$LATEST]aaaaaaaa", 5_001, { _aws: {}, ImageMs: [400, 500] }),
      line(
        "2025/01/31/[$LATEST]aaaaaaaa",
        5_002,
        "REPORT RequestId: a\tDuration: 1010 ms\tBilled Duration: 1010 ms\tMemory Size: 1769 MB\tMax Memory Used: 300 MB\tInit Duration: 700 ms",
      ),
      line("2025/01/31/[$LATEST]bbbbbbbb", 5_000, {
        message: "slice resized",
        orderId: "other",
        sliceIndex: 9,
        done: 1,
        failed: 0,
        skipped: 0,
        ms: 500,
      }),
      line("2025/01/31/[$LATEST]bbbbbbbb", 5_001, { _aws: {}, ImageMs: [999] }),
      line(
        "2025/01/31/[$LATEST]bbbbbbbb",
        5_002,
        "REPORT RequestId: b\tDuration: 510 ms\tBilled Duration: 510 ms\tMemory Size: 1769 MB\tMax Memory Used: 250 MB",
      ),
    ];

    // Act
    const summary = summarizeWorkerLogs(events, "ours");

    // Assess
    expect(summary.slices).toEqual([
      {
        lane: "aaaaaaaa",
        sliceIndex: 0,
        startEpochMs: 4_000,
        endEpochMs: 5_000,
        ms: 1_000,
        images: [],
        done: 2,
        failed: 0,
        skipped: 0,
        deferred: 0,
        handedBack: 0,
      },
    ]);
    expect(summary.imageMs).toEqual([400, 500]);
    expect(summary).toMatchObject({
      invocations: 1,
      coldStarts: 1,
      initMs: [700],
      billedMs: 1010,
      memoryMb: 1769,
    });
    expect(summary.peakMemoryMb).toEqual(new Map([["aaaaaaaa", 300]]));
  });
});

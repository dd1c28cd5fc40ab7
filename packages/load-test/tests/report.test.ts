import { describe, expect, it } from "vitest";
import { analyzeRun } from "../src/analyze.js";
import { DEFAULT_ASSUMPTIONS, pickConfigurations, predictGrid } from "../src/model.js";
import { renderModelReport } from "../src/model-report.js";
import { overheadRatio } from "../src/overhead.js";
import { escapeHtml, renderHtmlReport, renderTextReport } from "../src/report.js";
import type { LoadTestResult } from "../src/result.js";
import { summarize } from "../src/stats.js";

function fixture(): LoadTestResult {
  const run = analyzeRun({
    label: "local",
    orderId: "lt-<test>",
    progress: { total: 2, done: 1, failed: 1, status: "completed_with_errors", slices: 1 },
    wallMs: 1_000,
    wallSource: "Redis pub/sub completion signal",
    originEpochMs: 0,
    totalBytes: 2e6,
    slices: [
      {
        lane: "pid 7",
        sliceIndex: 0,
        startEpochMs: 100,
        endEpochMs: 900,
        ms: 790,
        done: 1,
        failed: 1,
        skipped: 0,
        deferred: 0,
        handedBack: 0,
        images: [
          { index: 0, key: "a.jpg", status: "done", ms: 80 },
          { index: 1, key: "b.jpg", status: "failed", failureClass: "Corrupt", ms: 5 },
        ],
      },
    ],
    sliceFailures: [],
    peakRss: new Map([["pid 7", 150e6]]),
    errors: [{ key: "b.jpg", class: "Corrupt", message: "premature end of <JPEG>" }],
  });
  const images = [
    { index: 0, ms: 40, bytes: 1e6 },
    { index: 1, ms: 60, bytes: 1e6 },
  ];
  return {
    version: 1,
    target: "local",
    startedAt: "2025-01-31T15:45:02.000Z",
    machine: { cpus: 2, cpuModel: "Test CPU", totalMemoryBytes: 1e9, node: "20.0.0", platform: "linux-x64" },
    config: {
      images: 2,
      seed: "s",
      megapixels: 1,
      sizeMb: 1,
      detail: 0.5,
      workers: 2,
      concurrencyPerWorker: 2,
      sliceSize: 25,
    },
    corpus: { dir: "/tmp/c", images: 2, totalBytes: 2e6, meanBytes: 1e6, detailSource: "option" },
    runs: [run],
    baseline: {
      processes: 2,
      inFlightPerProcess: 1,
      wallMs: 60,
      cpuMs: 100,
      cpuMsPerImage: 50,
      otherLoadShare: null,
      perImageMs: summarize(images.map((i) => i.ms)),
      images,
    },
    overhead: overheadRatio({
      pipelineWallMs: 1_000,
      lanes: 2,
      baselineImageMs: [40, 60],
      baselineWallMs: 60,
    }),
    notes: ["a note"],
  };
}

describe("reports", () => {
  it("prints every figure the issue asks for", () => {
    // Prepare
    const result = fixture();

    // Act
    const text = renderTextReport(result).join("\n");

    // Assess
    expect(text).toMatch(/wall time\s+1\.00 s\s+order-completed → Redis pub\/sub completion signal/);
    expect(text).toMatch(/throughput\s+2\.0 images\/s/);
    expect(text).toMatch(/per image\s+avg 42\.5 ms\s+p50 42\.5 ms\s+p95 76\.3 ms\s+max 80\.0 ms\s+\(n=2\)/);
    expect(text).toMatch(/per slice\s+avg 790\.0 ms/);
    expect(text).toMatch(/pid 7\s+1 slices\s+2 images\s+busy\s+800\.0 ms\s+peak RSS 150\.0 MB/);
    expect(text).toMatch(/errors by class\s+Corrupt 1/);
    expect(text).toMatch(/overhead ratio\s+20\.000\s+goal ≤ 1\.15: MISS/);
    expect(text).toMatch(/consistency\s+ok/);
  });

  it("prints the worker CPU ratio on its own line, with the baselines that bracket the run", () => {
    // Prepare
    const result = fixture();
    result.baselineBrackets = [
      { when: "before", wallMs: 60, cpuMs: 96, cpuMsPerImage: 48, otherLoadShare: 0.02 },
      { when: "after", wallMs: 60, cpuMs: 104, cpuMsPerImage: 52, otherLoadShare: 0.04 },
    ];
    result.overhead = overheadRatio({
      pipelineWallMs: 1_000,
      lanes: 2,
      baselineImageMs: [40, 60],
      baselineWallMs: 60,
      workerCpu: { msPerImage: 55, baselineMsPerImage: [48, 52] },
    });

    // Act
    const text = renderTextReport(result).join("\n");

    // Assess
    expect(text).toMatch(/before the pipeline\s+48\.0 ms CPU per image/);
    expect(text).toMatch(/after the pipeline\s+52\.0 ms CPU per image/);
    expect(text).toMatch(
      /worker CPU ratio\s+1\.100\s+goal ≤ 1\.15: PASS\s+\(worker processes 55\.0 ms ÷ pure resizing 50\.0 ms CPU per image; 1\.058-1\.146 against each bracketing baseline\)/,
    );
  });

  it("prints the CPU account with the worker processes' full GCs", () => {
    // Prepare
    const result = fixture();
    result.runs[0]!.cpu = {
      totalMs: 1_200,
      workersMs: 1_000,
      workerFullGcs: { count: 3, pauseMs: 45 },
      parentMs: 150,
      redisMs: 50,
      otherLoadShare: 0.01,
    };

    // Act
    const text = renderTextReport(result).join("\n");

    // Assess
    expect(text).toMatch(/CPU used\s+1\.20 s: workers 1\.00 s/);
    expect(text).toMatch(/full GCs\s+3 in the worker processes \(1\.500 per image\), 45\.0 ms of main-thread pauses/);
  });

  it("prints the fan-out split into lanes idle within and between worker invocations", () => {
    // Prepare: 2 lanes × 1 s; 0.9 s of it inside invocations, 0.85 s of it images.
    const result = fixture();
    result.overhead = overheadRatio({
      pipelineWallMs: 1_000,
      lanes: 2,
      baselineImageMs: [400, 400],
      baselineWallMs: 400,
      pipelineImageMsSum: 1_700,
      invocationLaneMs: 1_800,
    });

    // Act
    const text = renderTextReport(result).join("\n");

    // Assess
    expect(text).toMatch(/= fan-out × per image\s+1\.176 × 2\.125/);
    expect(text).toMatch(
      /fan-out\s+= within invocations 1\.059 \(aim ≤ 1\.03: MISS\) × between invocations 1\.111/,
    );
  });

  it("writes a self-contained HTML page with both charts and escaped text", async () => {
    // Prepare
    const result = fixture();

    // Act
    const html = await renderHtmlReport(result);

    // Assess
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<svg/g)?.length).toBe(2);
    expect(html).toContain("Per-image time (local)");
    expect(html).toContain("Slices across 1 workers");
    expect(html).toContain("lt-&lt;test&gt;");
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it("escapes HTML", () => {
    // Act / Assess
    expect(escapeHtml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  });

  it("prints the model's tables, picks and the verdict against 3 s", () => {
    // Prepare
    const a = { ...DEFAULT_ASSUMPTIONS, cpuMsPerImage: 45, maxOverAvg: 2, meanImageBytes: 1.2e6 };
    const predictions = predictGrid(a);

    // Act
    const text = renderModelReport(a, "a test", predictions, pickConfigurations(predictions)).join("\n");

    // Assess
    expect(text).toContain("1,769 MB = 1 vCPU");
    expect(text).toContain("$0.0000133334 per GB-s");
    expect(text).toMatch(/10240 MB/);
    expect(text).toMatch(/^ {2}cost {6}\d+ MB, slices of \d+/m);
    expect(text).toMatch(/^ {2}speed {5}\d+ MB/m);
    expect(text).toMatch(/^ {2}balanced {2}\d+ MB/m);
    expect(text).toContain("Against the origin's ~3 s");
  });
});

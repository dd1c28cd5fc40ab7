import { describe, expect, it } from "vitest";
import { analyzeRun, finalOutcomes, type ObservedSlice, type RunObservation } from "../src/analyze.js";

const slice = (overrides: Partial<ObservedSlice>): ObservedSlice => ({
  lane: "pid 1",
  sliceIndex: 0,
  startEpochMs: 1_000,
  endEpochMs: 2_000,
  ms: 990,
  images: [],
  done: 0,
  failed: 0,
  skipped: 0,
  deferred: 0,
  handedBack: 0,
  ...overrides,
});

const observation = (slices: ObservedSlice[], overrides: Partial<RunObservation> = {}): RunObservation => ({
  label: "local",
  orderId: "o-1",
  progress: { total: 3, done: 2, failed: 1, status: "completed_with_errors", slices: 2 },
  wallMs: 2_000,
  wallSource: "test",
  originEpochMs: 1_000,
  totalBytes: 3e6,
  slices,
  sliceFailures: [],
  peakRss: new Map([["pid 1", 200e6]]),
  errors: [{ key: "k2", class: "Corrupt", message: "truncated" }],
  ...overrides,
});

describe("run analysis", () => {
  it("keeps one final outcome per image: done beats failed beats skipped", () => {
    // Prepare: slice 0 delivered twice; the redelivery skips image 0 and succeeds where image 1 failed
    const first = slice({
      endEpochMs: 2_000,
      images: [
        { index: 0, key: "k0", status: "done", ms: 40 },
        { index: 1, key: "k1", status: "failed", failureClass: "Transient", ms: 30 },
      ],
    });
    const again = slice({
      lane: "pid 2",
      endEpochMs: 3_000,
      images: [
        { index: 0, key: "k0", status: "skipped", ms: 0 },
        { index: 1, key: "k1", status: "done", ms: 50 },
      ],
    });

    // Act
    const outcomes = finalOutcomes([again, first]);

    // Assess
    expect(outcomes.map((o) => [o.index, o.status, o.lane])).toEqual([
      [0, "done", "pid 1"],
      [1, "done", "pid 2"],
    ]);
  });

  it("takes a follow-up slice's outcome for deferred and handed-back images", () => {
    // Prepare: image 0 deferred (Transient, retried), image 1 handed back unstarted; a follow-up does both
    const first = slice({
      endEpochMs: 2_000,
      images: [
        { index: 0, key: "k0", status: "deferred", failureClass: "Transient", ms: 30 },
        { index: 1, key: "k1", status: "handed-back", ms: 0 },
      ],
    });
    const followUp = slice({
      endEpochMs: 2_500,
      images: [
        { index: 0, key: "k0", status: "done", ms: 45 },
        { index: 1, key: "k1", status: "failed", failureClass: "Corrupt", ms: 5 },
      ],
    });

    // Act
    const outcomes = finalOutcomes([followUp, first]);

    // Assess
    expect(outcomes.map((o) => [o.index, o.status, o.ms])).toEqual([
      [0, "done", 45],
      [1, "failed", 5],
    ]);
  });

  it("adds up counts, per-image and per-slice times, lanes and errors", () => {
    // Prepare
    const slices = [
      slice({
        sliceIndex: 0,
        startEpochMs: 1_100,
        endEpochMs: 2_100,
        ms: 1_000,
        done: 2,
        images: [
          { index: 0, key: "k0", status: "done", ms: 100 },
          { index: 1, key: "k1", status: "done", ms: 300 },
        ],
      }),
      slice({
        lane: "pid 2",
        sliceIndex: 1,
        startEpochMs: 1_200,
        endEpochMs: 1_700,
        ms: 500,
        failed: 1,
        images: [{ index: 2, key: "k2", status: "failed", failureClass: "Corrupt", ms: 200 }],
      }),
    ];

    // Act
    const run = analyzeRun(observation(slices));

    // Assess
    expect(run.consistency).toEqual({ ok: true, notes: [] });
    expect(run.perImageMs).toMatchObject({ count: 3, avg: 200, max: 300 });
    expect(run.perSliceMs).toMatchObject({ count: 2, avg: 750 });
    expect(run.throughput.imagesPerSecond).toBe(1.5);
    expect(run.errorsByClass).toEqual({ Corrupt: 1 });
    expect(run.slices.map((s) => [s.sliceIndex, s.startMs, s.endMs])).toEqual([
      [0, 100, 1_100],
      [1, 200, 700],
    ]);
    expect(run.lanes).toEqual([
      { lane: "pid 1", slices: 1, images: 2, busyMs: 1_000, peakRssBytes: 200e6 },
      { lane: "pid 2", slices: 1, images: 1, busyMs: 500, peakRssBytes: null },
    ]);
  });

  it("says which counts disagree", () => {
    // Prepare: the workers reported only one image of three
    const slices = [slice({ done: 1, images: [{ index: 0, key: "k0", status: "done", ms: 10 }] })];

    // Act
    const run = analyzeRun(observation(slices));

    // Assess
    expect(run.consistency.ok).toBe(false);
    expect(run.consistency.notes.join(" ")).toMatch(/reported 1 distinct images; the order has 3/);
  });

  it("uses metric samples when no per-image outcomes exist (AWS)", () => {
    // Prepare
    const slices = [slice({ done: 2, failed: 1 })];

    // Act
    const run = analyzeRun(observation(slices, { imageMsFromMetrics: [10, 20] }));

    // Assess
    expect(run.perImageMs).toMatchObject({ count: 2, avg: 15 });
    expect(run.imageMsSamples).toEqual([10, 20]);
    expect(run.errorsByClass).toEqual({ Corrupt: 1 });
    expect(run.consistency.ok).toBe(true);
  });
});

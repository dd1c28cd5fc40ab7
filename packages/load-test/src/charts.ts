/**
 * Charts as static SVG, rendered here in Node with Vega-Lite → Vega's headless SVG renderer.
 *
 * Why Vega-Lite + Vega: a well-kept (UW Interactive Data Lab), declarative charting library whose
 * renderer runs headless in Node without a DOM or canvas, so the report embeds finished SVG: it opens
 * offline, with no script and nothing fetched at view time. uPlot and Chartist draw in the browser
 * (their code would have to be inlined, and they need a DOM to render), and hand-written SVG would
 * re-implement axes, binning and legends. vega-lite is pinned to 6.4.x: 6.5 requires Node 22.
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { worked } from "./analyze.js";
import type { BaselineResult, RunResult } from "./result.js";

const CONFIG = {
  font: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "top", labelLimit: 400 },
  title: { fontSize: 14, anchor: "start" },
} as const;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile({ ...spec, config: { ...CONFIG, ...spec.config } } as TopLevelSpec).spec;
  const view = new View(parse(vega), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Distribution of per-image times: in the pipeline, and (local) pure resizing of the same images. */
export function perImageHistogram(run: RunResult, baseline?: BaselineResult): TopLevelSpec {
  const pipeline =
    run.images.length > 0
      ? run.images.filter((i) => worked(i.status)).map((i) => i.ms)
      : (run.imageMsSamples ?? []);
  const values = [
    ...pipeline.map((v) => ({ ms: v, kind: "in the pipeline (fetch + resize + store)" })),
    ...(baseline?.images ?? []).map((i) => ({ ms: i.ms, kind: "pure resize (baseline)" })),
  ];
  const marks = [
    { label: "avg", value: run.perImageMs.avg },
    { label: "p95", value: run.perImageMs.p95 },
  ].filter((m) => Number.isFinite(m.value));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Per-image time (${run.label}): ${pipeline.length} images in the pipeline${
      baseline ? `, ${baseline.images.length} resized from memory (baseline)` : ""
    }`,
    width: 760,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: "bar", opacity: 0.65, binSpacing: 0 },
        encoding: {
          x: { field: "ms", type: "quantitative", bin: { maxbins: 60 }, title: "ms per image" },
          y: { aggregate: "count", type: "quantitative", title: "images", stack: null },
          color: { field: "kind", type: "nominal", title: null },
        },
      },
      {
        data: { values: marks },
        mark: { type: "rule", strokeDash: [4, 3], color: "#333" },
        encoding: { x: { field: "value", type: "quantitative" } },
      },
      {
        data: { values: marks },
        mark: { type: "text", align: "left", dx: 3, y: 8, fontSize: 11 },
        encoding: {
          x: { field: "value", type: "quantitative" },
          text: { field: "label", type: "nominal" },
        },
      },
    ],
  };
}

/** Every slice delivery as a bar from its start to its end, on its worker's lane. */
export function sliceTimeline(run: RunResult): TopLevelSpec {
  const values = run.slices.map((s) => ({
    lane: s.lane,
    start: s.startMs / 1000,
    end: s.endMs / 1000,
    slice: s.sliceIndex,
    outcome:
      s.failed > 0
        ? "with failed images"
        : s.deferred + s.handedBack > 0
          ? "deferred or handed back images"
          : s.skipped > 0
            ? "redelivered (skips)"
            : "all done",
  }));
  const lanes = new Set(values.map((v) => v.lane)).size;
  const labelled = values.length <= 120;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Slices across ${lanes} workers (${run.label}); dashed line: completion signal`,
    width: 760,
    height: Math.max(80, lanes * 26),
    layer: [
      {
        data: { values },
        mark: { type: "bar", stroke: "white", strokeWidth: 1, height: { band: 0.8 } },
        encoding: {
          x: { field: "start", type: "quantitative", title: "seconds since order-completed" },
          x2: { field: "end" },
          y: { field: "lane", type: "nominal", title: null, sort: "ascending" },
          color: {
            field: "outcome",
            type: "nominal",
            title: null,
            scale: {
              domain: [
                "all done",
                "with failed images",
                "deferred or handed back images",
                "redelivered (skips)",
              ],
              range: ["#4c78a8", "#e45756", "#b279a2", "#f2cf5b"],
            },
          },
        },
      },
      ...(labelled
        ? [
            {
              data: { values },
              mark: { type: "text" as const, color: "white", fontSize: 9, dx: 0 },
              transform: [{ calculate: "(datum.start + datum.end) / 2", as: "mid" }],
              encoding: {
                x: { field: "mid", type: "quantitative" as const },
                y: { field: "lane", type: "nominal" as const, sort: "ascending" as const },
                text: { field: "slice", type: "quantitative" as const },
              },
            },
          ]
        : []),
      {
        data: { values: [{ wall: run.wallMs / 1000 }] },
        mark: { type: "rule", color: "#d62728", strokeDash: [5, 3], strokeWidth: 2 },
        encoding: { x: { field: "wall", type: "quantitative" } },
      },
    ],
  };
}

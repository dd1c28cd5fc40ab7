import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { worked } from "./analyze.js";
import type { BaselineResult, RunResult } from "./result.js";

// Vega-Lite renders headless in Node, so the report embeds finished SVG and opens offline with no
// script. vega-lite stays on 6.4.x: 6.5 requires Node 22.
const CONFIG = {
  font: "system-ui, sans-serif",
  legend: { orient: "top", labelLimit: 400 },
  title: { anchor: "start" },
};
const Q = "quantitative";

/** One chart: `layer` over a 760-wide plot, each marker a labelled dashed vertical rule. */
async function chart(title: string, height: number, layer: object[], markers: object[]): Promise<string> {
  const x = { field: "x", type: Q };
  const rules = [
    {
      data: { values: markers },
      mark: { type: "rule", strokeDash: [4, 3], color: "#d62728" },
      encoding: { x },
    },
    {
      data: { values: markers },
      mark: { type: "text", align: "left", dx: 3, y: 8 },
      encoding: { x, text: { field: "label" } },
    },
  ];
  const spec = { title, width: 760, height, layer: [...layer, ...rules], config: CONFIG } as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Per-image times (pipeline against pure resizing) and every slice delivery on its lane's timeline. */
export function runCharts(run: RunResult, baseline?: BaselineResult): Promise<string[]> {
  const pipeline =
    run.images.length > 0
      ? run.images.filter((i) => worked(i.status)).map((i) => i.ms)
      : (run.imageMsSamples ?? []);
  const charts: Array<Promise<string>> = [];
  if (pipeline.length > 0) {
    const values = [
      ...pipeline.map((ms) => ({ ms, kind: "in the pipeline (fetch + resize + store)" })),
      ...(baseline?.images ?? []).map((i) => ({ ms: i.ms, kind: "pure resize (baseline)" })),
    ];
    const bars = {
      data: { values },
      mark: { type: "bar", opacity: 0.65, binSpacing: 0 },
      encoding: {
        x: { field: "ms", type: Q, bin: { maxbins: 60 }, title: "ms per image" },
        y: { aggregate: "count", type: Q, title: "images", stack: null },
        color: { field: "kind", title: null },
      },
    };
    const { avg, p95 } = run.perImageMs;
    const title = `Per-image time (${run.label}): ${pipeline.length} images in the pipeline${baseline ? `, ${baseline.images.length} resized from memory` : ""}`;
    charts.push(
      chart(
        title,
        260,
        [bars],
        [
          { x: avg, label: "avg" },
          { x: p95, label: "p95" },
        ],
      ),
    );
  }
  if (run.slices.length > 0) {
    const values = run.slices.map((s) => ({
      lane: s.lane,
      start: s.startMs / 1000,
      end: s.endMs / 1000,
      outcome:
        s.failed > 0
          ? "with failed images"
          : s.deferred + s.handedBack > 0
            ? "deferred or handed back"
            : s.skipped > 0
              ? "redelivered (skips)"
              : "all done",
    }));
    const lanes = new Set(values.map((v) => v.lane)).size;
    const bars = {
      data: { values },
      mark: { type: "bar", stroke: "white", height: { band: 0.8 } },
      encoding: {
        x: { field: "start", type: Q, title: "seconds since order-completed" },
        x2: { field: "end" },
        y: { field: "lane", title: null },
        color: { field: "outcome", title: null },
      },
    };
    const title = `Slices across ${lanes} workers (${run.label})`;
    charts.push(
      chart(title, Math.max(80, lanes * 26), [bars], [{ x: run.wallMs / 1000, label: "complete" }]),
    );
  }
  return Promise.all(charts);
}

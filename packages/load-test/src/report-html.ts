import { perImageHistogram, renderSvg, sliceTimeline } from "./charts.js";
import { bytes, ms } from "./format.js";
import { cpuLine } from "./report-text.js";
import type { LoadTestResult, RunResult } from "./result.js";
import type { Summary } from "./stats.js";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:880px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#555;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37;font-weight:700}.miss{color:#c62828;font-weight:700}.muted{color:#666;font-size:13px}
figure{margin:12px 0}svg{max-width:100%;height:auto}`;

/** A self-contained HTML report: inline CSS and inline SVG charts, nothing loaded at view time. */
export async function renderHtmlReport(result: LoadTestResult): Promise<string> {
  const { config: c, corpus } = result;
  const sections: string[] = [];
  for (const run of result.runs) sections.push(await runSection(run, result));
  if (result.baseline && result.overhead) {
    const b = result.baseline;
    const o = result.overhead;
    sections.push(`<h2>Pipeline overhead</h2>
<p>Overhead ratio <b>${o.ratio.toFixed(3)}</b>, goal ≤ ${o.goal.toFixed(2)}:
<span class="${o.verdict === "PASS" ? "pass" : "miss"}">${o.verdict}</span>.
Cross-check: pipeline wall ÷ pure-resize wall = ${o.wallOverBaselineWall.toFixed(3)}.
${o.split ? `As a product: fan-out ${o.split.fanOut.toFixed(3)} (lanes idle between images) × per image ${o.split.perImage.toFixed(3)} (each image's GET, PUTs, Redis and waiting on top of its resize).` : ""}
CPU ratio (pipeline CPU ÷ pure-resize CPU): ${o.cpuRatio === null ? "not measured" : o.cpuRatio.toFixed(3)}.
${o.workerCpu ? `Worker CPU ratio (worker processes' CPU per image ÷ pure resizing's): <b>${o.workerCpu.ratio.toFixed(3)}</b>, goal ≤ ${o.workerCpu.goal.toFixed(2)}: <span class="${o.workerCpu.verdict === "PASS" ? "pass" : "miss"}">${o.workerCpu.verdict}</span> (${ms(o.workerCpu.workerMsPerImage)} ÷ ${ms(o.workerCpu.pureMsPerImage)}; ${o.workerCpu.low.toFixed(3)}-${o.workerCpu.high.toFixed(3)} against each bracketing baseline).` : ""}</p>
${o.warning ? `<p class="miss">${escapeHtml(o.warning)}</p>` : ""}
<p class="muted">${escapeHtml(o.definition)}</p>
<table>${statsRows("pure resize per image", b.perImageMs)}
<tr><th>CPU per image</th><td>${ms(b.cpuMsPerImage)}</td></tr>
<tr><th>pure-resize wall</th><td>${ms(b.wallMs)} on ${b.processes} processes × ${b.inFlightPerProcess} images in flight</td></tr>
<tr><th>pure-resize CPU</th><td>${ms(b.cpuMs)}; other processes used ${b.otherLoadShare === null ? "an unknown share" : `${(b.otherLoadShare * 100).toFixed(0)}%`} of the machine meanwhile</td></tr></table>`);
  }
  const notes = result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>thumbs load test ${escapeHtml(result.startedAt)}</title>
<style>${STYLE}</style></head><body>
<h1>thumbs load test: ${escapeHtml(result.target)}</h1>
<p class="muted">${escapeHtml(result.startedAt)} · ${escapeHtml(result.machine.cpuModel)} × ${result.machine.cpus} · Node ${escapeHtml(result.machine.node)}</p>
<table>
<tr><th>order</th><td>${corpus.images} photo-like JPEGs, ${bytes(corpus.totalBytes)} (mean ${bytes(corpus.meanBytes)}, ~${c.megapixels} MP, seed “${escapeHtml(c.seed)}”)</td></tr>
<tr><th>pipeline</th><td>${
    result.target === "local"
      ? `${c.workers} worker processes × ${c.concurrencyPerWorker} images in flight`
      : `stack ${escapeHtml(c.stackName ?? "")}, worker ${c.workerMemoryMb ?? "?"} MB`
  }, slices of ${c.sliceSize}</td></tr>
</table>
${sections.join("\n")}
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ""}
</body></html>
`;
}

async function runSection(run: RunResult, result: LoadTestResult): Promise<string> {
  const histogram =
    run.images.length > 0 || (run.imageMsSamples?.length ?? 0) > 0
      ? await renderSvg(perImageHistogram(run, result.baseline))
      : undefined;
  const timeline = run.slices.length > 0 ? await renderSvg(sliceTimeline(run)) : undefined;
  const errors = Object.entries(run.errorsByClass);
  const lanes = run.lanes
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.lane)}</td><td class="n">${l.slices}</td><td class="n">${l.images}</td><td class="n">${ms(l.busyMs)}</td><td class="n">${bytes(l.peakRssBytes)}</td></tr>`,
    )
    .join("");
  return `<h2>Order ${escapeHtml(run.orderId)} (${escapeHtml(run.label)}): ${escapeHtml(run.status)}</h2>
<table>
<tr><th>images</th><td>${run.total} in ${run.slicesPlanned} slices: ${run.done} done, ${run.failed} failed</td></tr>
<tr><th>wall time</th><td><b>${ms(run.wallMs)}</b> from order-completed to the ${escapeHtml(run.wallSource)}</td></tr>
<tr><th>throughput</th><td>${run.throughput.imagesPerSecond.toFixed(1)} images/s, ${run.throughput.megabytesPerSecond.toFixed(1)} MB/s of originals</td></tr>
${statsRows("per image", run.perImageMs)}
${statsRows("per slice", run.perSliceMs)}
${run.cpu ? `<tr><th>CPU used</th><td>${escapeHtml(cpuLine(run.cpu))}</td></tr>` : ""}
<tr><th>errors by class</th><td>${errors.length === 0 ? "none" : errors.map(([k, n]) => `${escapeHtml(k)} ${n}`).join(", ")}</td></tr>
<tr><th>consistency</th><td>${run.consistency.ok ? "ok: done + failed = total" : escapeHtml(run.consistency.notes.join(" "))}</td></tr>
</table>
<p class="muted">Per image: the time one image held its worker's lane (fetch + sniff + resize + store, less any part of the fetch that ran ahead during the previous image), while other images are in flight in the same process.</p>
${histogram ? `<figure>${histogram}</figure>` : ""}
${timeline ? `<figure>${timeline}</figure>` : ""}
<table><tr><th>worker</th><th>slices</th><th>images</th><th>busy</th><th>peak RSS</th></tr>${lanes}</table>`;
}

function statsRows(label: string, s: Summary): string {
  if (s.count === 0) return `<tr><th>${escapeHtml(label)}</th><td>no samples</td></tr>`;
  return `<tr><th>${escapeHtml(label)}</th><td>avg ${ms(s.avg)} · p50 ${ms(s.p50)} · p95 ${ms(s.p95)} · max ${ms(s.max)} (n=${s.count})</td></tr>`;
}

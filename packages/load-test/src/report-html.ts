import { perImageHistogram, renderSvg, sliceTimeline } from "./charts.js";
import { renderTextReport } from "./report-text.js";
import type { LoadTestResult, RunResult } from "./result.js";

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:960px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#666;font-size:13px}pre{font-size:12px;overflow-x:auto}figure{margin:12px 0}svg{max-width:100%;height:auto}`;

/**
 * A self-contained HTML page: each run's charts as inline SVG, then the text report, so the figures
 * are rendered once and read the same in both. Nothing is loaded at view time.
 */
export async function renderHtmlReport(result: LoadTestResult): Promise<string> {
  const charts = await Promise.all(result.runs.map((run) => runCharts(run, result)));
  const { startedAt, machine } = result;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>thumbs load test ${escapeHtml(startedAt)}</title>
<style>${STYLE}</style></head><body>
<h1>thumbs load test: ${escapeHtml(result.target)}</h1>
<p class="muted">${escapeHtml(startedAt)} · ${escapeHtml(machine.cpuModel)} × ${machine.cpus} · Node ${escapeHtml(machine.node)}</p>
${charts.join("\n")}
<h2>Report</h2>
<pre>${escapeHtml(renderTextReport(result).join("\n"))}</pre>
</body></html>
`;
}

async function runCharts(run: RunResult, result: LoadTestResult): Promise<string> {
  const figures: string[] = [];
  if (run.images.length > 0 || (run.imageMsSamples?.length ?? 0) > 0)
    figures.push(await renderSvg(perImageHistogram(run, result.baseline)));
  if (run.slices.length > 0) figures.push(await renderSvg(sliceTimeline(run)));
  return `<h2>Order ${escapeHtml(run.orderId)} (${escapeHtml(run.label)}): ${escapeHtml(run.status)}</h2>
${figures.map((svg) => `<figure>${svg}</figure>`).join("\n")}`;
}

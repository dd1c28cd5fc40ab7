import type { Summary } from "./stats.js";

/** Milliseconds as "845.2 ms" or "12.35 s"; "–" when unknown. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return Math.abs(value) < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`;
}

/** Bytes in decimal units (MB = 10^6), as file sizes and S3 are billed. */
export function bytes(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "–";
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} GB`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} MB`;
  return `${(value / 1e3).toFixed(1)} kB`;
}

/** US dollars with enough digits for fractions of a cent. */
export function usd(value: number): string {
  if (value >= 1) return `$${value.toFixed(2)}`;
  if (value >= 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(6)}`;
}

/** "avg 41.2 ms  p50 40.1 ms  p95 52.3 ms  max 80.0 ms  (n=1000)". */
export function summaryLine(s: Summary): string {
  if (s.count === 0) return "no samples";
  return `avg ${ms(s.avg)}  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  max ${ms(s.max)}  (n=${s.count})`;
}

/** Left-aligned label column, so report lines read as a table. */
export function row(label: string, value: string): string {
  return `  ${label.padEnd(20)} ${value}`;
}

/** A fixed-width text table: the first row is the header, columns right-aligned except the first. */
export function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "),
  );
}

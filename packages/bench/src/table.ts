/** Pure formatting and target evaluation, kept apart from the processes so they can be unit-tested. */

export interface Throughput {
  msPerImage: number;
  imagesPerSecond: number;
}

export interface ContenderResult {
  id: string;
  label: string;
  floor: boolean;
  /** One process pinned to one core. */
  oneCore?: Throughput;
  /** One process per core, all at once. */
  allCores?: Throughput;
  /** Why it has no numbers: not installed (with the install command) or failed. */
  skipped?: string;
}

export interface Target {
  name: string;
  measured: number | undefined;
  goal: number;
  /** "max": measured must be ≤ goal; "min": ≥ goal. */
  kind: "max" | "min";
  unit: "×" | "MB";
  /** Why there is no measurement, when there is none. */
  missing?: string;
}

/** From a run of `images` in `wallMs` (for all processes together). */
export const throughput = (images: number, wallMs: number): Throughput => ({
  msPerImage: wallMs / images,
  imagesPerSecond: (images / wallMs) * 1000,
});

const fixed = (n: number | undefined, digits: number) =>
  n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);
const ms = (n: number | undefined) => fixed(n, n !== undefined && n >= 100 ? 0 : 1);
const times = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "–" : `${n.toFixed(2)}×`);

/** Right-aligns every column but those in `left` (by default the first), which are left-aligned. */
export function alignColumns(rows: string[][], left: number[] = [0]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * The main table: per contender, ms/image and images/s on one core and on all cores, the scaling,
 * and the ratio to ours (their ms/image over ours, one core: 2.00× = takes twice as long as ours).
 */
export function formatTable(results: ContenderResult[], cores: number): string[] {
  const ours = results.find((r) => r.id === "ours");
  const header = [
    "contender",
    "1 core ms/img",
    "1 core img/s",
    `${cores} cores ms/img`,
    `${cores} cores img/s`,
    "scaling",
    "vs ours",
  ];
  const rows = results
    .filter((r) => !r.skipped)
    .map((r) => [
      r.label,
      ms(r.oneCore?.msPerImage),
      fixed(r.oneCore?.imagesPerSecond, 1),
      ms(r.allCores?.msPerImage),
      fixed(r.allCores?.imagesPerSecond, 1),
      times(scaling(r)),
      times(ratio(r.oneCore?.msPerImage, ours?.oneCore?.msPerImage)),
    ]);
  const lines = alignColumns([header, ...rows]);
  const rule = "-".repeat(Math.max(...lines.map((l) => l.length)));
  const skipped = results.filter((r) => r.skipped).map((r) => `skipped: ${r.label} (${r.skipped})`);
  return [lines[0]!, rule, ...lines.slice(1), ...skipped];
}

export const scaling = (r: ContenderResult): number | undefined =>
  ratio(r.allCores?.imagesPerSecond, r.oneCore?.imagesPerSecond);

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

export interface TargetInputs {
  results: ContenderResult[];
  /** Peak RSS of ours on the 24 MP set at a 1,769 MB Lambda's concurrency, MB. */
  peakRssMb: number | undefined;
  rssConcurrency: number;
}

/** The issue's targets, all as ratios from the same run. */
export function evaluateTargets({ results, peakRssMb, rssConcurrency }: TargetInputs): Target[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const oneCore = (id: string) => byId.get(id)?.oneCore?.msPerImage;
  const oursMs = oneCore("ours");
  const why = (id: string) => {
    if (!byId.has(id)) return "not run";
    return byId.get(id)!.skipped ?? (oursMs === undefined ? "ours has no result" : undefined);
  };
  const slower = (id: string, goal: number, name: string): Target => ({
    name,
    measured: ratio(oneCore(id), oursMs),
    goal,
    kind: "min",
    unit: "×",
    missing: why(id),
  });
  const overFloor = (id: string, name: string): Target => ({
    name,
    measured: ratio(oursMs, oneCore(id)),
    goal: 1.8,
    kind: "max",
    unit: "×",
    missing: why(id),
  });
  return [
    overFloor("floor-libjpeg", "ours ≤ 1.8× decode floor (libjpeg-turbo alone)"),
    overFloor("floor-libvips", "ours ≤ 1.8× decode floor (libvips, ours' decoder)"),
    slower("pillow-right", 1.3, "≥ 1.3× faster than Pillow done right"),
    slower("naive-sharp", 1.4, "≥ 1.4× faster than naive sharp"),
    slower("pillow-tutorial", 5, "≥ 5× faster than Pillow as tutorials (ANTIALIAS)"),
    slower("imagemagick", 10, "≥ 10× faster than ImageMagick per size"),
    {
      name: "ours scales ≥ 1.75× from 1 core to 2",
      measured: byId.get("ours") ? scaling(byId.get("ours")!) : undefined,
      goal: 1.75,
      kind: "min",
      unit: "×",
      missing: why("ours"),
    },
    {
      name: `ours' peak RSS on 24 MP, ${rssConcurrency} in flight (1,769 MB Lambda)`,
      measured: peakRssMb,
      goal: 400,
      kind: "max",
      unit: "MB",
      missing: peakRssMb === undefined ? "no 24 MP run (--big 0?)" : undefined,
    },
  ];
}

export function verdict(t: Target): "PASS" | "MISS" | "N/A" {
  if (t.measured === undefined || !Number.isFinite(t.measured)) return "N/A";
  const ok = t.kind === "max" ? t.measured <= t.goal : t.measured >= t.goal;
  return ok ? "PASS" : "MISS";
}

export function formatTargets(targets: Target[]): string[] {
  const show = (n: number | undefined, unit: Target["unit"]) =>
    n === undefined ? "–" : unit === "MB" ? `${Math.round(n)} MB` : `${n.toFixed(2)}×`;
  const rows = targets.map((t) => [
    t.name,
    show(t.measured, t.unit),
    `${t.kind === "max" ? (t.unit === "MB" ? "<" : "≤") : "≥"} ${t.unit === "MB" ? `${t.goal} MB` : `${t.goal}×`}`,
    verdict(t),
    t.measured === undefined && t.missing ? `(${t.missing})` : "",
  ]);
  const lines = alignColumns([["target", "measured", "goal", "result", ""], ...rows], [0, 4]);
  return [lines[0]!, "-".repeat(Math.max(...lines.map((l) => l.length))), ...lines.slice(1)];
}

/**
 * The decoder-swap what-if beside the target it speaks to (ours ≤ 1.8× bare libjpeg-turbo): its own
 * ratio to that floor and to ours. Reported, not a target; undefined unless both ran.
 */
export function whatIfLine(results: ContenderResult[]): string | undefined {
  const oneCore = (id: string) => results.find((r) => r.id === id && !r.skipped)?.oneCore?.msPerImage;
  const hybrid = oneCore("turbo-hybrid");
  const floor = oneCore("floor-libjpeg");
  if (hybrid === undefined || floor === undefined) return undefined;
  const vsOurs =
    oneCore("ours") === undefined ? "" : `, ${times(ratio(oneCore("ours"), hybrid))} faster than ours`;
  return `what-if, no target: libjpeg-turbo decode + sharp ${ms(hybrid)} ms/img = ${times(ratio(hybrid, floor))} the libjpeg-turbo floor${vsOurs}`;
}

export interface Summary {
  count: number;
  sum: number;
  min: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The q-quantile (0-1) of values sorted ascending, interpolating linearly between the two nearest
 * ranks (the "R-7" rule of numpy and spreadsheets), so p50 of [1, 2] is 1.5, not 1 or 2.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below]!;
  return low + (sorted[Math.ceil(position)]! - low) * (position - below);
}

/** Count, sum, min, average, percentiles and max; every field is NaN (count 0) for no values. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, v) => total + v, 0);
  return {
    count: sorted.length,
    sum,
    min: sorted[0] ?? Number.NaN,
    avg: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Occurrences of each key, most frequent first (ties by name, so reports are stable). */
export function countBy<T>(
  items: readonly T[],
  key: (item: T) => string | undefined,
): Record<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

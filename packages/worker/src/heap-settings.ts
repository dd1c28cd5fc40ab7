import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the old generation grow past what survived the last full GC before it marks again:
 * (1 + HEAP_GROWING_PERCENT / 100) × the live heap.
 *
 * A worker's JavaScript allocates little and its main thread mostly waits on libvips and sockets, so V8
 * judges full GCs cheap and keeps the growth at its minimum (×1.1 of a ~22 MB live heap, plus the young
 * generation's capacity). Marking then starts again ~2 MB after each full GC: about one Mark-Compact
 * every ten images, each taking CPU from the resizes it competes with on the same cores. At ×4 it is a
 * few per thousand images, for ~25 MB more peak RSS. Measured in docs/PERFORMANCE.md ("Full GCs").
 */
export const HEAP_GROWING_PERCENT = 300;

/**
 * V8's process-wide heap settings for a worker. Applied at cold start by the entry points that resize
 * a stream of originals (the worker's handler, the load test's pure-resize baseline), never on import.
 * V8 reads the setting at every full GC, so setting it after start takes effect from the next one.
 */
export function applyHeapSettings(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

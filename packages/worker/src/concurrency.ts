import { totalmem } from "node:os";

// The sizing rules are plain arithmetic in core (infra imports them without sharp); re-exported here
// for the worker's own callers.
export {
  cpuShare,
  imageConcurrency,
  LAMBDA_MB_PER_VCPU,
  threadpoolSize,
} from "@thumbs/core";

/**
 * libvips worker threads per sharp pipeline (resize.ts calls sharp.concurrency with it). A JPEG decodes
 * top to bottom on one thread whatever libvips is given, and a thumbnail-sized image is too small to
 * split across threads with gain; parallelism comes from several images at once instead, which scales
 * nearly linearly (docs/PERFORMANCE.md). Fewer threads also mean fewer glibc malloc arenas, so less RSS.
 */
export const LIBVIPS_THREADS = 1;

/**
 * Memory one HEIC decode holds per pixel, in bytes, at its peak: libheif's WebAssembly heap (the coded
 * input, the decoded YCbCr planes and their RGB conversion: 6-8 bytes per pixel measured, the heap
 * growing in steps) plus the uncompressed RGB(A) handed to sharp, up to 4 more. docs/PERFORMANCE.md.
 */
export const HEIC_BYTES_PER_PIXEL = 12;

/**
 * Memory kept back from HEIC decoding for Node, sharp and the other images in flight: the worker's
 * peak RSS on 24 MP JPEGs at a 1-vCPU Lambda's concurrency is ~170 MB (docs/PERFORMANCE.md), and
 * an idle decoder thread may keep up to KEEP_HEAP_MB of heap.
 */
export const MEMORY_RESERVE_MB = 384;

/** The memory this process may use, in MB: Lambda's setting, else the container's limit or the machine's. */
export function workerMemoryMb(env: Record<string, string | undefined> = process.env): number {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(memory) && memory > 0) return memory;
  const limit = process.constrainedMemory?.() ?? 0;
  const total = totalmem();
  return Math.floor((limit > 0 ? Math.min(limit, total) : total) / 1024 / 1024);
}

/**
 * MB that HEIC decodes may hold at once (decode-heic.ts weighs each decode by its pixels against it):
 * what is left of the worker's memory after MEMORY_RESERVE_MB, and never less than 128 MB. At the
 * default 1,769 MB that is 1,385 MB: one 100 MP HEIC (MAX_INPUT_PIXELS' default) or several photos.
 */
export function heicMemoryBudgetMb(memoryMb: number = workerMemoryMb()): number {
  return Math.max(128, Math.floor(memoryMb - MEMORY_RESERVE_MB));
}

/** MB one HEIC decode of `pixels` pixels from `bytes` coded bytes holds at its peak. */
export function heicDecodeMb(pixels: number, bytes: number): number {
  return Math.ceil((pixels * HEIC_BYTES_PER_PIXEL + bytes) / 1024 / 1024);
}

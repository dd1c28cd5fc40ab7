import { availableParallelism } from "node:os";

/**
 * How the worker is sized, as plain arithmetic: infra, the local runtime and the load test's model use
 * the same rules as the worker without loading sharp.
 */

/** Lambda allocates one full vCPU per 1,769 MB of memory, linearly, up to 6 vCPUs at 10,240 MB. */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The CPU share this process may use: from Lambda's memory setting when on Lambda, else the cores. */
export function cpuShare(env: Record<string, string | undefined> = process.env): number {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(memory) && memory > 0) return Math.min(6, memory / LAMBDA_MB_PER_VCPU);
  return availableParallelism();
}

/**
 * Images in flight at once. Each image decodes on one libvips thread (the worker's LIBVIPS_THREADS), so one image
 * per core keeps the CPU busy; one more per core overlaps the S3 download and upload of the next image
 * with the CPU work of the current one. Below one vCPU, a second image still hides I/O.
 */
export function imageConcurrency(share: number): number {
  return Math.max(2, Math.ceil(share) * 2);
}

/**
 * Threads the libuv pool needs (UV_THREADPOOL_SIZE) for `inFlight` images with `sizes` sizes each.
 *
 * Every sharp pipeline occupies one pool thread while libvips runs it, so the pool caps how many
 * pipelines run at once: Node's default of 4 would leave a 6-vCPU Lambda (12 images in flight) using
 * at most 4 cores. An image runs up to one pipeline per size at once (its sizes are encoded in
 * parallel), and DNS lookups and file reads share the pool, so they get 2 threads of headroom rather
 * than queueing behind resizes. Idle threads cost only address space.
 *
 * libuv reads UV_THREADPOOL_SIZE once, when the pool is first used, and module loading or an early
 * DNS lookup may already have used it before the handler's code runs: set it in the function's
 * environment, not from code.
 */
export function threadpoolSize(inFlight: number, sizes = 2): number {
  return Math.min(1024, Math.max(4, inFlight * sizes + 2));
}

/**
 * The hand-back margin: the worker stops starting images when less than this is left of its
 * invocation, so an image started just before it can run to its own deadline and be recorded.
 */
export const defaultHandbackMarginSeconds = (imageTimeoutSeconds: number): number => imageTimeoutSeconds + 5;

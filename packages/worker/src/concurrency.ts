import { availableParallelism } from "node:os";

/** Lambda allocates one full vCPU per 1,769 MB of memory, linearly, up to 6 vCPUs at 10,240 MB. */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The CPU share this process may use: from Lambda's memory setting when on Lambda, else the cores. */
export function cpuShare(env: Record<string, string | undefined> = process.env): number {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(memory) && memory > 0) return Math.min(6, memory / LAMBDA_MB_PER_VCPU);
  return availableParallelism();
}

/**
 * Images in flight at once. Each image decodes on one libvips thread (sharp.concurrency(1)), so one
 * image per core keeps the CPU busy; one more per core overlaps the S3 download and upload of the
 * next image with the CPU work of the current one. Below one vCPU, a second image still hides I/O.
 */
export function imageConcurrency(share: number): number {
  return Math.max(2, Math.ceil(share) * 2);
}

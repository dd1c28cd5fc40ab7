import { imageConcurrency, LAMBDA_MB_PER_VCPU } from "@thumbs/worker";

/** Lambda and request prices (us-east-1, arm64, on-demand, first pricing tier, no free tier). */
export const PRICES = {
  lambdaGbSecondArm64: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  s3PutOrList: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  /** Per published message up to 64 KB (each entry of a PublishBatch counts); delivery to Lambda is free. */
  snsPublish: 0.5 / 1e6,
} as const;

export const LAMBDA_MAX_VCPU = 6;
export const WORKER_MEMORY_MB = [
  512, 1024, 1536, 1769, 2048, 3008, 3538, 4096, 5307, 6144, 7076, 8192, 10240,
];
export const SLICE_SIZES = [5, 10, 25, 50, 100];

/** Everything the model assumes besides Lambda's published rules. Times in ms at 1 full vCPU. */
export interface ModelAssumptions {
  images: number;
  cpuMsPerImage: number;
  maxOverAvg: number;
  /** Lambda vCPU time per unit of this machine's CPU time (1 = as fast; Graviton is often 1-1.3×). */
  cpuScale: number;
  meanImageBytes: number;
  s3GetFirstByteMs: number;
  s3GetMBps: number;
  s3PutMs: number;
  /** ListObjectsV2: the coordinator lists 1,000 keys per page (workers never list). */
  s3ListMs: number;
  /** One ledger Lua call (per image) or the done-bitmap read (per slice), inside the VPC. */
  redisMs: number;
  /** One PublishBatch call; the coordinator keeps 4 in flight. */
  snsPublishMs: number;
  snsDeliveryMs: number;
  /** Coordinator's own work besides listing and publishing (validation, Redis init), warm. */
  coordinatorMs: number;
  coordinatorColdStartMs: number;
  /** Worker cold start: network and TLS part (Secrets Manager, Redis TLS), not CPU-bound. */
  workerColdStartFixedMs: number;
  /** Worker cold start: CPU-bound part (loading Node modules and sharp) at 1 vCPU. */
  workerColdStartCpuMs: number;
  /** Account concurrency available to the worker (1,000 by default); more slices run in waves. */
  maxConcurrency: number;
}

export const DEFAULT_ASSUMPTIONS: Omit<ModelAssumptions, "cpuMsPerImage" | "maxOverAvg" | "meanImageBytes"> =
  {
    images: 1000,
    cpuScale: 1,
    s3GetFirstByteMs: 30,
    s3GetMBps: 90,
    s3PutMs: 40,
    s3ListMs: 40,
    redisMs: 2,
    snsPublishMs: 25,
    snsDeliveryMs: 150,
    coordinatorMs: 60,
    coordinatorColdStartMs: 900,
    workerColdStartFixedMs: 400,
    workerColdStartCpuMs: 350,
    maxConcurrency: 1000,
  };

export interface Prediction {
  memoryMb: number;
  sliceSize: number;
  vcpu: number;
  inFlight: number;
  slices: number;
  sliceMs: number;
  resizeAvgMs: number;
  resizeMaxMs: number;
  warmWallMs: number;
  coldWallMs: number;
  warmCost: number;
  coldCost: number;
  costBreakdown: { lambda: number; requests: number; s3: number; sns: number };
}

/** Lambda's CPU share for a memory size: linear, 1 vCPU per 1,769 MB, at most 6. */
export function vcpuShare(memoryMb: number): number {
  return Math.min(LAMBDA_MAX_VCPU, memoryMb / LAMBDA_MB_PER_VCPU);
}

/**
 * Predicted wall time and cost of one order for a worker memory size and slice size.
 *
 * A worker keeps k images in flight on v vCPUs; each image needs c ms of CPU (one libvips thread, so
 * at most one vCPU per image) and d ms of I/O (GET, both PUTs, the ledger call). Its throughput is
 * the lower of the two bounds of a closed pipeline, X = min(min(v, k) ÷ c, k ÷ (c ÷ min(v, 1) + d)),
 * which is optimistic near the knee. Every slice runs on its own instance at once (up to
 * maxConcurrency), so the order ends when the last published slice has been delivered and resized.
 */
export function predict(memoryMb: number, sliceSize: number, a: ModelAssumptions): Prediction {
  const vcpu = vcpuShare(memoryMb);
  // A slice smaller than the worker's in-flight limit cannot fill it.
  const k = Math.min(imageConcurrency(vcpu), sliceSize);
  const c = a.cpuMsPerImage * a.cpuScale;
  const d = a.s3GetFirstByteMs + (a.meanImageBytes / 1e6 / a.s3GetMBps) * 1000 + a.s3PutMs + a.redisMs;
  const throughput = Math.min(Math.min(vcpu, k) / c, k / (c / Math.min(vcpu, 1) + d));
  // Little's law: images doing I/O = X·d; the rest share the vCPUs.
  const computing = Math.min(k, Math.max(1, k - throughput * d));
  const resizeAvgMs = c / Math.min(1, vcpu / computing);
  // The slice's plan and item state in one round trip, and its lease.
  const perSliceSetup = 2 * a.redisMs;
  const slices = Math.ceil(a.images / sliceSize);
  // Never shorter than one image from start to end: the last image of a slice cannot be shared out.
  const sliceMs =
    perSliceSetup + Math.max(Math.min(sliceSize, a.images) / throughput, c / Math.min(vcpu, 1) + d);

  const waves = Math.ceil(slices / a.maxConcurrency);
  const publishMs = Math.ceil(Math.ceil(slices / 10) / 4) * a.snsPublishMs;
  // Per page of 1,000 keys: list it, stage it in Redis, read the committed plan back.
  const pages = Math.ceil(a.images / 1000);
  const coordinatorWarmMs = a.coordinatorMs + pages * (a.s3ListMs + 2 * a.redisMs) + a.redisMs + publishMs;
  const workerColdMs = a.workerColdStartFixedMs + a.workerColdStartCpuMs / Math.min(1, vcpu);
  const warmWallMs = coordinatorWarmMs + a.snsDeliveryMs + waves * sliceMs;
  // Only the first wave starts cold; later waves reuse its instances.
  const coldWallMs = warmWallMs + a.coordinatorColdStartMs + workerColdMs;

  const gb = memoryMb / 1024;
  // Lambda bills duration in 1 ms steps, and (since August 2025) the INIT phase of cold starts too.
  const workerSeconds = (slices * Math.ceil(sliceMs)) / 1000;
  const coordinatorSeconds = Math.ceil(coordinatorWarmMs) / 1000;
  const lambdaWarm = (workerSeconds * gb + coordinatorSeconds * (128 / 1024)) * PRICES.lambdaGbSecondArm64;
  const coldInstances = Math.min(slices, a.maxConcurrency);
  const initCost =
    ((coldInstances * Math.ceil(workerColdMs) * gb + a.coordinatorColdStartMs * (128 / 1024)) / 1000) *
    PRICES.lambdaGbSecondArm64;
  const requests = (slices + 1) * PRICES.lambdaRequest;
  const s3 = a.images * PRICES.s3Get + (2 * a.images + pages) * PRICES.s3PutOrList;
  const sns = slices * PRICES.snsPublish;
  const fixed = requests + s3 + sns;
  return {
    memoryMb,
    sliceSize,
    vcpu,
    inFlight: k,
    slices,
    sliceMs,
    resizeAvgMs,
    resizeMaxMs: resizeAvgMs * a.maxOverAvg,
    warmWallMs,
    coldWallMs,
    warmCost: lambdaWarm + fixed,
    coldCost: lambdaWarm + initCost + fixed,
    costBreakdown: { lambda: lambdaWarm, requests, s3, sns },
  };
}

export interface Picks {
  cost: Prediction;
  speed: Prediction;
  balanced: Prediction;
}

/**
 * The three configurations AWS Lambda Power Tuning would suggest, on warm runs: cheapest (ties →
 * faster), fastest (ties → cheaper), and balanced, minimising w·cost/maxCost + (1−w)·time/maxTime.
 */
export function pickConfigurations(predictions: readonly Prediction[], balancedWeight = 0.5): Picks {
  const maxCost = Math.max(...predictions.map((p) => p.warmCost));
  const maxTime = Math.max(...predictions.map((p) => p.warmWallMs));
  const score = (p: Prediction) =>
    balancedWeight * (p.warmCost / maxCost) + (1 - balancedWeight) * (p.warmWallMs / maxTime);
  const best = (compare: (x: Prediction, y: Prediction) => number) => [...predictions].sort(compare)[0]!;
  return {
    cost: best((x, y) => x.warmCost - y.warmCost || x.warmWallMs - y.warmWallMs),
    speed: best((x, y) => x.warmWallMs - y.warmWallMs || x.warmCost - y.warmCost),
    balanced: best((x, y) => score(x) - score(y)),
  };
}

export function predictGrid(
  a: ModelAssumptions,
  memories: readonly number[] = WORKER_MEMORY_MB,
  sliceSizes: readonly number[] = SLICE_SIZES,
): Prediction[] {
  return memories.flatMap((m) => sliceSizes.map((s) => predict(m, s, a)));
}

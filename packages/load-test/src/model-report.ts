import { DEFAULT_SLICE_SIZE } from "@thumbs/core";
import { type ModelAssumptions, type Picks, PRICES, type Prediction } from "./model.js";
import { bytes, ms } from "./report.js";

/** US dollars with enough digits for fractions of a cent. */
const usd = (v: number) => `$${v.toFixed(v >= 1 ? 2 : v >= 0.01 ? 4 : 6)}`;

/** A text table: the first row is the header, columns right-aligned except the first. */
function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map(
    (r) =>
      `  ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")}`,
  );
}

/** The origin story's figure: 1,000 images (~1.2 GB) in about 3 s on Lambda. */
const ORIGIN_WALL_MS = 3000;

// The stack's worker memory (infra/lib/config.ts DEFAULT_WORKER_MEMORY_MB): infra depends on this
// package, so the constant cannot be imported from there.
const DEPLOYED_MEMORY_MB = 1769;

const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;
const key = (p: Prediction) => `${p.memoryMb} MB, slices of ${p.sliceSize}`;

/** The facts and assumptions the predictions rest on, as printed lines. */
function modelPreamble(a: ModelAssumptions, source: string): string[] {
  return [
    `Lambda memory/cost model: ${a.images} images (mean ${bytes(a.meanImageBytes)}) into two thumbnail sizes`,
    `  measured   ${ms(a.cpuMsPerImage)} CPU per image (slowest ${a.maxOverAvg.toFixed(2)}× the average) from ${source}`,
    "  Lambda     1,769 MB = 1 vCPU, linear in memory, up to 6 vCPUs at 10,240 MB; arm64 (us-east-1)",
    `             $${PRICES.lambdaGbSecondArm64} per GB-s, $0.20 per 1M requests; duration billed per 1 ms, INIT of cold starts billed too`,
    "  S3         PUT/LIST $0.005 per 1,000, GET $0.0004 per 1,000;  SNS publish $0.50 per 1M (delivery to Lambda: free)",
    `  assumed    Lambda CPU = this machine's × ${a.cpuScale} (--cpu-scale); S3 GET ${a.s3GetFirstByteMs} ms to first byte + ${a.s3GetMBps} MB/s,`,
    `             both PUTs ${a.s3PutMs} ms, LIST ${a.s3ListMs} ms; Redis ${a.redisMs} ms per call; SNS publish ${a.snsPublishMs} ms per batch,`,
    `             delivery to the worker ${a.snsDeliveryMs} ms; worker cold start ${a.workerColdStartFixedMs} ms + ${a.workerColdStartCpuMs} ms ÷ min(vCPU, 1);`,
    `             coordinator (128 MB) ${a.coordinatorMs} ms + listing + publishing, cold start ${a.coordinatorColdStartMs} ms; up to ${a.maxConcurrency} instances at once`,
    "  worker     images in flight = max(2, 2 × ⌈vCPU⌉) (packages/worker/src/concurrency.ts), at most the slice size;",
    "             one libvips thread per image, so one image never uses more than one vCPU",
    "  not billed here: ElastiCache (per hour, not per order), CloudWatch Logs, data transfer in the region (free)",
  ];
}

/** Tables of per-image resize time, wall time and cost, then the three picks and the verdict. */
export function renderModelReport(
  a: ModelAssumptions,
  source: string,
  predictions: readonly Prediction[],
  picks: Picks,
): string[] {
  const memories = [...new Set(predictions.map((p) => p.memoryMb))];
  const sliceSizes = [...new Set(predictions.map((p) => p.sliceSize))];
  const at = (m: number, s: number) => predictions.find((p) => p.memoryMb === m && p.sliceSize === s)!;
  const lines = modelPreamble(a, source);

  const resizeSlice = sliceSizes.includes(DEFAULT_SLICE_SIZE) ? DEFAULT_SLICE_SIZE : sliceSizes.at(-1)!;
  lines.push(
    "",
    `Per-image resize time on a worker (slices of ${resizeSlice}), AVG and MAX: the CPU part of one image, stretched`,
    "when its worker has more images in flight than vCPUs (MAX: the slowest original of the measured sample):",
  );
  lines.push(
    ...table([
      ["memory", "vCPU", "in flight", "AVG", "MAX", "slice time"],
      ...memories.map((m) => {
        const p = at(m, resizeSlice);
        return [
          `${m} MB`,
          p.vcpu.toFixed(2),
          String(p.inFlight),
          ms(p.resizeAvgMs),
          ms(p.resizeMaxMs),
          ms(p.sliceMs),
        ];
      }),
    ]),
  );
  const grid = (title: string, cell: (p: Prediction) => string) => {
    lines.push("", title);
    lines.push(
      ...table([
        ["memory \\ slice", ...sliceSizes.map(String)],
        ...memories.map((m) => [`${m} MB`, ...sliceSizes.map((s) => cell(at(m, s)))]),
      ]),
    );
  };
  grid(
    `Predicted wall time for ${a.images} images, warm (cold):`,
    (p) => `${seconds(p.warmWallMs)} (${seconds(p.coldWallMs)})`,
  );
  grid(
    `Predicted cost for ${a.images} images, warm (cold), Lambda + S3 + SNS:`,
    (p) => `${usd(p.warmCost)} (${usd(p.coldCost)})`,
  );

  lines.push("", "Picks (warm runs; the strategies of AWS Lambda Power Tuning, balanced weight 0.5):");
  for (const [name, p] of Object.entries(picks) as Array<[string, Prediction]>) {
    lines.push(
      `  ${name.padEnd(9)} ${key(p).padEnd(26)} wall ${seconds(p.warmWallMs)} warm, ${seconds(p.coldWallMs)} cold;  ${usd(p.warmCost)} warm, ${usd(p.coldCost)} cold per ${a.images} images`,
    );
  }
  const b = picks.balanced.costBreakdown;
  lines.push(
    `  balanced, warm cost broken down: Lambda compute ${usd(b.lambda)}, Lambda requests ${usd(b.requests)}, S3 ${usd(b.s3)} (two PUTs per image dominate), SNS ${usd(b.sns)}`,
  );
  lines.push("", ...originVerdict(a, predictions, picks));
  return lines;
}

/** What the model predicts against the origin's ~3 s for 1,000 images. */
function originVerdict(a: ModelAssumptions, predictions: readonly Prediction[], picks: Picks): string[] {
  const fastest = picks.speed;
  const deployed = predictions.find(
    (p) => p.memoryMb === DEPLOYED_MEMORY_MB && p.sliceSize === DEFAULT_SLICE_SIZE,
  );
  const warmWithin = predictions.filter((p) => p.warmWallMs <= ORIGIN_WALL_MS);
  const coldWithin = predictions.filter((p) => p.coldWallMs <= ORIGIN_WALL_MS);
  const cheapestWarm = [...warmWithin].sort((x, y) => x.warmCost - y.warmCost)[0];
  const lines = [`Against the origin's ~3 s for 1,000 images (~1.2 GB), for ${a.images} images here:`];
  if (deployed)
    lines.push(
      `  the deployed default (${DEPLOYED_MEMORY_MB} MB, slices of ${DEFAULT_SLICE_SIZE}): ${seconds(deployed.warmWallMs)} warm, ${seconds(deployed.coldWallMs)} cold, ${usd(deployed.warmCost)}`,
    );
  lines.push(
    `  fastest (${key(fastest)}): ${seconds(fastest.warmWallMs)} warm, ${seconds(fastest.coldWallMs)} cold`,
    warmWithin.length > 0
      ? `  ${warmWithin.length} of ${predictions.length} configurations finish within 3 s warm; the cheapest of them is ${key(cheapestWarm!)} at ${usd(cheapestWarm!.warmCost)}`
      : "  no configuration finishes within 3 s warm: per-image CPU time dominates; more, smaller slices cannot beat one image's own time",
    coldWithin.length > 0
      ? `  ${coldWithin.length} finish within 3 s even from a cold start`
      : "  from a cold start none does: instance start-up alone takes a large part of the 3 s",
  );
  return lines;
}

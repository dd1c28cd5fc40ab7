#!/usr/bin/env node
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { runAwsLoadTest } from "./aws/aws-load-test.js";
import { runLocalLoadTest } from "./local-load-test.js";
import { DEFAULT_ASSUMPTIONS, type ModelAssumptions } from "./model.js";
import { OVERHEAD_DEFINITION, OVERHEAD_GOAL } from "./overhead.js";
import { createProgress } from "./progress.js";
import { wrap } from "./report-text.js";
import { runModel } from "./model-command.js";

// Node 20 is supported locally (Lambda runs nodejs22.x): the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const int = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, received "${value}"`);
  return n;
};
const number = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!(n >= min && n <= max))
    throw new InvalidArgumentError(`expected a number from ${min} to ${max}, received "${value}"`);
  return n;
};

const program = new Command()
  .name("thumbs-load-test")
  .description(
    "Times one order of generated photos end to end through the thumbnail pipeline: per-image and per-slice " +
      "times, throughput, worker memory, errors by class and the pipeline overhead ratio. Prints a report and " +
      "writes <out>/load-test-<time>.json and .html (charts; opens offline). --model predicts Lambda wall time " +
      "and cost instead. Exit code 0 = every image done and the counts add up, 1 = some images failed or the " +
      "counts disagree, 2 = the load test could not run.",
  )
  .addOption(
    new Option("--target <where>", "local pipeline, or a deployed stack (see --stack-name)")
      .choices(["local", "aws"])
      .default("local"),
  )
  .option("-n, --images <count>", "images in the order", int(1, 100_000), 1000)
  .option(
    "--size-mb <MB>",
    "mean size of ONE generated original, in MB (10^6 bytes): the generator's detail is calibrated to it, so the order totals about images × size-mb (1000 × 1.2 MB ≈ 1.2 GB)",
    number(0.01, 50),
    1.2,
  )
  .option(
    "--megapixels <MP>",
    "mean resolution of the generated originals (each varies ±25%)",
    number(0.01, 100),
    8.8,
  )
  .option("--detail <n>", "generator texture strength; skips the --size-mb calibration", number(0.01, 10))
  .option("--seed <text>", "seed of the generated photos: same seed, same bytes", "thumbs")
  .option("-w, --workers <count>", "local worker processes (default: one per core)", int(1, 64))
  .option("--concurrency <count>", "local: images in flight per worker process", int(1, 64), 2)
  .option(
    "--slice-size <count>",
    "local: images per slice (on AWS the deployed SLICE_SIZE applies)",
    int(1, 10_000),
    25,
  )
  .option("--cache-dir <dir>", "where generated photos are cached", join(".cache", "samples"))
  .option("-o, --out <dir>", "where the JSON and HTML reports are written", join("out", "load-test"))
  .option(
    "--no-baseline",
    "local: skip timing pure resizing of the same originals (then no overhead ratio, see below)",
  )
  .option(
    "--timeout <seconds>",
    "give up when the order is not complete after this long",
    int(1, 86_400),
    900,
  )
  .option("--order-id <id>", "local: order id (default: lt-<time>-<random>)")
  .option(
    "--cpu-prof <dir>",
    "local: write a V8 CPU profile of each worker process into <dir> (node --cpu-prof; open in Chrome DevTools)",
  )
  .option(
    "--s3-rate-limit <perSecond>",
    "local: answer the workers' S3 object requests beyond this rate with 503 SlowDown (burst: a third of it), as a hot prefix does",
    number(1, 100_000),
  )
  .addOption(
    new Option("--retry-mode <mode>", "local: the workers' AWS SDK retry mode (AWS_RETRY_MODE)").choices([
      "standard",
      "adaptive",
    ]),
  )
  .option("--no-progress", "no progress bar (for logs and CI)")
  .addOption(
    new Option(
      "--model",
      "print the Lambda memory/cost model instead of running: predicted wall time and cost per order for worker memory 512-10240 MB × slice sizes 5-100, and the cheapest, fastest and balanced picks",
    ),
  )
  .option(
    "--from <json>",
    "model: the local run whose measured CPU per image to use (default: newest in --out)",
  )
  .option(
    "--cpu-ms <ms>",
    "model: CPU time per image at 1 vCPU, instead of a measurement",
    number(0.1, 100_000),
  )
  .option(
    "--cpu-scale <x>",
    "model: Lambda vCPU time per unit of this machine's CPU time",
    number(0.1, 10),
    DEFAULT_ASSUMPTIONS.cpuScale,
  )
  .option(
    "--cold-start-ms <ms>",
    "model: worker cold start at 1 vCPU (network part + CPU part)",
    number(0, 60_000),
  )
  .option(
    "--s3-get-ms <ms>",
    "model: S3 GET time to first byte",
    number(0, 60_000),
    DEFAULT_ASSUMPTIONS.s3GetFirstByteMs,
  )
  .option("--s3-put-ms <ms>", "model: both thumbnail PUTs", number(0, 60_000), DEFAULT_ASSUMPTIONS.s3PutMs)
  .option(
    "--sns-ms <ms>",
    "model: SNS publish → worker invocation",
    number(0, 60_000),
    DEFAULT_ASSUMPTIONS.snsDeliveryMs,
  )
  .option(
    "--stack-name <name>",
    "aws: the CloudFormation stack to test (the CDK app's default is Thumbs)",
    "Thumbs",
  )
  .option("--region <region>", "aws: region of the stack (default: AWS_REGION / the profile's)")
  .addOption(
    new Option(
      "--trigger <how>",
      "aws: invoke the coordinator directly, or PutEvents to the stack's event bus",
    )
      .choices(["invoke", "event"])
      .default("invoke"),
  )
  .option(
    "--event-source <source>",
    "aws: the source of the order-completed event (--trigger event)",
    "thumbs.backend",
  )
  .option("--no-force-cold", "aws: do not bump the worker's configuration before the first run")
  .option("--log-wait <seconds>", "aws: how long to wait for the workers' logs to arrive", int(0, 3600), 120)
  .addHelpText(
    "after",
    [
      "",
      ...wrap(`Overhead ratio (goal ≤ ${OVERHEAD_GOAL}): ${OVERHEAD_DEFINITION}`, 104),
      "",
      "--target aws reads the stack's outputs and needs: cloudformation:DescribeStacks; s3:ListBucket and",
      "s3:PutObject on the originals bucket; lambda:InvokeFunction (coordinator), lambda:GetFunctionConfiguration",
      "and lambda:UpdateFunctionConfiguration (worker, to force the cold run); execute-api:Invoke on the admin API;",
      "logs:FilterLogEvents on the worker's log group; events:PutEvents with --trigger event.",
      "",
      "Examples:",
      "  pnpm load-test                      1,000 photos (~1.2 GB) through the local pipeline",
      "  pnpm load-test --images 100         a quicker run",
      "  pnpm load-test --model              the Lambda memory/cost model from the newest local result",
      "  pnpm load-test --target aws --stack-name Thumbs",
    ].join("\n"),
  )
  .showHelpAfterError();

async function main(): Promise<number> {
  // `pnpm load-test -- --flag` passes the `--` through; npm habits should not turn flags into arguments.
  const argv =
    process.argv[2] === "--" ? [...process.argv.slice(0, 2), ...process.argv.slice(3)] : process.argv;
  const o = program.parse(argv).opts();
  const progress = createProgress({ bar: o.progress && process.stdout.isTTY === true });
  const corpus = {
    seed: o.seed,
    megapixels: o.megapixels,
    sizeMb: o.sizeMb,
    detail: o.detail,
    cacheDir: o.cacheDir,
  };
  if (o.model) {
    const overrides: Partial<ModelAssumptions> = {
      cpuScale: o.cpuScale,
      s3GetFirstByteMs: o.s3GetMs,
      s3PutMs: o.s3PutMs,
      snsDeliveryMs: o.snsMs,
      ...(o.coldStartMs === undefined
        ? {}
        : { workerColdStartFixedMs: o.coldStartMs / 2, workerColdStartCpuMs: o.coldStartMs / 2 }),
    };
    const model = await runModel(
      { from: o.from, cpuMs: o.cpuMs, overrides, corpus, images: o.images, outDir: o.out },
      progress.status,
    );
    for (const line of model.lines) console.log(line);
    console.log(`\nWrote ${model.json}`);
    return 0;
  }
  const common = { ...corpus, images: o.images, outDir: o.out, timeoutMs: o.timeout * 1000 };
  const { result, files, lines } =
    o.target === "aws"
      ? await runAwsLoadTest(
          {
            ...common,
            stackName: o.stackName,
            region: o.region,
            trigger: o.trigger,
            eventSource: o.eventSource,
            forceCold: o.forceCold,
            logWaitMs: o.logWait * 1000,
          },
          progress,
        )
      : await runLocalLoadTest(
          {
            ...common,
            workers: o.workers ?? availableParallelism(),
            concurrencyPerWorker: o.concurrency,
            sliceSize: o.sliceSize,
            baseline: o.baseline,
            orderId: o.orderId,
            cpuProfDir: o.cpuProf,
            s3RateLimit: o.s3RateLimit,
            retryMode: o.retryMode,
          },
          progress,
        );
  for (const line of lines) console.log(line);
  console.log(`\nWrote ${files.json}\n      ${files.html}`);
  return result.runs.every((r) => r.failed === 0 && r.consistency.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(2);
  },
);

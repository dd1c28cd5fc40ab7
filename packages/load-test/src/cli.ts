#!/usr/bin/env node
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { DEFAULT_EVENT_SOURCE, DEFAULT_SLICE_SIZE } from "@thumbs/core";
import { intOption, numberOption } from "@thumbs/local";
import { Command, Option, type OptionValues } from "commander";
import { type AwsLoadTestOptions, runAwsLoadTest } from "./aws/aws-load-test.js";
import type { CorpusOptions } from "./corpus.js";
import { type LocalLoadTestOptions, runLocalLoadTest } from "./local-load-test.js";
import { DEFAULT_ASSUMPTIONS } from "./model.js";
import { runModel } from "./model-command.js";
import type { LoadTestOutcome } from "./output.js";
import { OVERHEAD_DEFINITION, OVERHEAD_GOAL } from "./overhead.js";
import { createProgress } from "./progress.js";
import { wrap } from "./report-text.js";

// Node 20 is supported locally (Lambda runs nodejs22.x): the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** The order every mode measures or models: generated photo-like JPEGs, cached by their parameters. */
function orderOptions(command: Command): Command {
  return command
    .option("-n, --images <count>", "images in the order", intOption(1, 100_000), 1000)
    .option(
      "--size-mb <MB>",
      "mean size of ONE generated original, in MB (10^6 bytes): the generator's detail is calibrated to it, so the order totals about images × size-mb (1000 × 1.2 MB ≈ 1.2 GB)",
      numberOption(0.01, 50),
      1.2,
    )
    .option("--megapixels <MP>", "mean resolution of the originals (±25% each)", numberOption(0.01, 100), 8.8)
    .option("--detail <n>", "generator texture strength (skips the calibration)", numberOption(0.01, 10))
    .option("--seed <text>", "seed of the generated photos: same seed, same bytes", "thumbs")
    .option("--cache-dir <dir>", "where generated photos are cached", join(".cache", "samples"))
    .option("-o, --out <dir>", "where the JSON and HTML reports are written", join("out", "load-test"))
    .option("--no-progress", "no progress bar (for logs and CI)");
}

const latency = numberOption(0, 60_000);
const timeout = () =>
  new Option("--timeout <seconds>", "give up when the order is not complete after this long")
    .argParser(intOption(1, 86_400))
    .default(900);

const program = new Command()
  .name("thumbs-load-test")
  .description(
    "Times one order of generated photos end to end through the thumbnail pipeline (local, the default, or a " +
      "deployed stack), or predicts Lambda wall time and cost (model). Exit code 0 = every image done and the " +
      "counts add up, 1 = some images failed or the counts disagree, 2 = the load test could not run.",
  )
  .showHelpAfterError()
  .addHelpText(
    "after",
    [
      "",
      "Examples:",
      "  pnpm load-test                          1,000 photos (~1.2 GB) through the local pipeline",
      "  pnpm load-test -- --images 100          a quicker run (local is the default command)",
      "  pnpm load-test -- model                 the Lambda memory/cost model from the newest local result",
      "  pnpm load-test -- aws --stack-name Thumbs",
      "  pnpm load-test -- local --help          every option of a command",
    ].join("\n"),
  );

orderOptions(program.command("local", { isDefault: true }))
  .description(
    "Runs the order through the local pipeline (fauxqs, Redis, worker processes) between two timings of pure " +
      "resizing: per-image and per-slice times, throughput, worker memory, errors by class, CPU and the overhead " +
      "ratios. Writes <out>/load-test-<time>.json and .html (charts; opens offline).",
  )
  .option("-w, --workers <count>", "worker processes (default: one per core)", intOption(1, 64))
  .option("--concurrency <count>", "images in flight per worker process", intOption(1, 64), 2)
  .option("--slice-size <count>", "images per slice", intOption(1, 10_000), DEFAULT_SLICE_SIZE)
  .option("--no-baseline", "skip timing pure resizing of the same originals (then no overhead ratio)")
  .addOption(timeout())
  .option("--order-id <id>", "order id (default: lt-<time>-<random>)")
  .option(
    "--cpu-prof <dir>",
    "write a V8 CPU profile of each worker process into <dir> (open in Chrome DevTools)",
  )
  .option(
    "--s3-rate-limit <perSecond>",
    "answer the workers' S3 object requests beyond this rate with 503 SlowDown (burst: a third of it), as a hot prefix does",
    numberOption(1, 100_000),
  )
  .addOption(
    new Option("--retry-mode <mode>", "the workers' AWS SDK retry mode (AWS_RETRY_MODE)").choices([
      "standard",
      "adaptive",
    ]),
  )
  .addHelpText(
    "after",
    ["", ...wrap(`Overhead ratio (goal ≤ ${OVERHEAD_GOAL}): ${OVERHEAD_DEFINITION}`, 104)].join("\n"),
  )
  .action(async (o) => {
    const options: LocalLoadTestOptions = {
      ...common(o),
      workers: o.workers ?? availableParallelism(),
      concurrencyPerWorker: o.concurrency,
      sliceSize: o.sliceSize,
      baseline: o.baseline,
      orderId: o.orderId,
      cpuProfDir: o.cpuProf,
      s3RateLimit: o.s3RateLimit,
      retryMode: o.retryMode,
    };
    await print(runLocalLoadTest(options, progressOf(o)));
  });

orderOptions(program.command("aws"))
  .description(
    "Runs the order on a deployed stack twice, cold then warm, timing it through the admin API and reading " +
      "the workers' CloudWatch logs. Writes the same reports as local.",
  )
  .option("--stack-name <name>", "the CloudFormation stack (the CDK app's default is Thumbs)", "Thumbs")
  .option("--region <region>", "region of the stack (default: AWS_REGION / the profile's)")
  .addOption(
    new Option("--trigger <how>", "invoke the coordinator directly, or PutEvents to the stack's event bus")
      .choices(["invoke", "event"])
      .default("invoke"),
  )
  .option(
    "--event-source <source>",
    "source of the order-completed event (--trigger event)",
    DEFAULT_EVENT_SOURCE,
  )
  .option("--no-force-cold", "do not bump the worker's configuration before the first run")
  .option("--log-wait <seconds>", "how long to wait for the workers' logs to arrive", intOption(0, 3600), 120)
  .addOption(timeout())
  .addHelpText(
    "after",
    [
      "",
      "Reads the stack's outputs and needs: cloudformation:DescribeStacks; s3:ListBucket and s3:PutObject on",
      "the originals bucket; lambda:InvokeFunction (coordinator), lambda:GetFunctionConfiguration and",
      "lambda:UpdateFunctionConfiguration (worker, to force the cold run); execute-api:Invoke on the admin API;",
      "logs:FilterLogEvents on the worker's log group; events:PutEvents with --trigger event.",
    ].join("\n"),
  )
  .action(async (o) => {
    const options: AwsLoadTestOptions = {
      ...common(o),
      stackName: o.stackName,
      region: o.region,
      trigger: o.trigger,
      eventSource: o.eventSource,
      forceCold: o.forceCold,
      logWaitMs: o.logWait * 1000,
    };
    await print(runAwsLoadTest(options, progressOf(o)));
  });

orderOptions(program.command("model"))
  .description(
    "Predicts the order's wall time and cost for worker memory 512-10,240 MB × slice sizes 5-100, with the " +
      "cheapest, fastest and balanced picks, from the CPU per image of a local run. Writes <out>/load-test-model-<time>.json.",
  )
  .option("--from <json>", "the local run whose measured CPU per image to use (default: newest in --out)")
  .option("--cpu-ms <ms>", "CPU time per image at 1 vCPU, instead of a measurement", numberOption(0.1, 1e5))
  .option(
    "--cpu-scale <x>",
    "Lambda vCPU time per unit of this machine's CPU time",
    numberOption(0.1, 10),
    DEFAULT_ASSUMPTIONS.cpuScale,
  )
  .option("--cold-start-ms <ms>", "worker cold start at 1 vCPU (network part + CPU part)", latency)
  .option("--s3-get-ms <ms>", "S3 GET time to first byte", latency, DEFAULT_ASSUMPTIONS.s3GetFirstByteMs)
  .option("--s3-put-ms <ms>", "both thumbnail PUTs", latency, DEFAULT_ASSUMPTIONS.s3PutMs)
  .option("--sns-ms <ms>", "SNS publish → worker invocation", latency, DEFAULT_ASSUMPTIONS.snsDeliveryMs)
  .action(async (o) => {
    const overrides = {
      cpuScale: o.cpuScale,
      s3GetFirstByteMs: o.s3GetMs,
      s3PutMs: o.s3PutMs,
      snsDeliveryMs: o.snsMs,
      ...(o.coldStartMs === undefined
        ? {}
        : { workerColdStartFixedMs: o.coldStartMs / 2, workerColdStartCpuMs: o.coldStartMs / 2 }),
    };
    const options = {
      from: o.from,
      cpuMs: o.cpuMs,
      overrides,
      corpus: common(o),
      images: o.images,
      outDir: o.out,
    };
    const { lines, json } = await runModel(options, progressOf(o).status);
    for (const line of lines) console.log(line);
    console.log(`\nWrote ${json}`);
  });

/** The order's options, and where to write, as every command reads them. */
function common(o: OptionValues): CorpusOptions & { outDir: string; timeoutMs: number } {
  const { images, seed, megapixels, sizeMb, detail, cacheDir } = o;
  return { images, seed, megapixels, sizeMb, detail, cacheDir, outDir: o.out, timeoutMs: o.timeout * 1000 };
}

function progressOf(o: OptionValues) {
  return createProgress({ bar: o.progress && process.stdout.isTTY === true });
}

async function print(outcome: Promise<LoadTestOutcome>): Promise<void> {
  const { result, files, lines } = await outcome;
  for (const line of lines) console.log(line);
  console.log(`\nWrote ${files.json}\n      ${files.html}`);
  process.exitCode = result.runs.every((r) => r.failed === 0 && r.consistency.ok) ? 0 : 1;
}

/**
 * `pnpm load-test -- --flag` passes the `--` through; and `--model` and `--target <local|aws>` are
 * accepted as spellings of the subcommands, so command lines written that way keep working.
 */
function commandLine(args: readonly string[]): string[] {
  const rest = args[0] === "--" ? args.slice(1) : [...args];
  const model = rest.indexOf("--model");
  if (model >= 0) return ["model", ...rest.toSpliced(model, 1)];
  const target = rest.indexOf("--target");
  if (target >= 0) return [rest[target + 1] ?? "", ...rest.toSpliced(target, 2)];
  return rest;
}

program.parseAsync(commandLine(process.argv.slice(2)), { from: "user" }).then(
  () => process.exit(),
  (error: unknown) => {
    console.error(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(2);
  },
);

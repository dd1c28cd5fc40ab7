#!/usr/bin/env node
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { DEFAULT_EVENT_SOURCE, DEFAULT_SLICE_SIZE } from "@thumbs/core";
import { intOption, numberOption } from "@thumbs/local";
import { Command, Option, type OptionValues } from "commander";
import { runAwsLoadTest } from "./aws/aws-load-test.js";
import { runLocalLoadTest } from "./local-load-test.js";
import { DEFAULT_ASSUMPTIONS as A } from "./model.js";
import { runModel } from "./model-command.js";
import { createProgress } from "./progress.js";
import type { LoadTestOutcome } from "./report.js";

// Node 20 is supported locally (Lambda runs nodejs22.x): the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const README = "Every figure and option is explained in packages/load-test/README.md.";
const latency = numberOption(0, 60_000);

/** The order every command measures or models: generated photo-like JPEGs, cached by their parameters. */
function command(name: string, description: string, isDefault = false): Command {
  return program
    .command(name, { isDefault })
    .description(description)
    .option("-n, --images <count>", "images in the order", intOption(1, 100_000), 1000)
    .option("--size-mb <MB>", "mean size of one generated original (10^6 bytes)", numberOption(0.01, 50), 1.2)
    .option("--megapixels <MP>", "mean resolution of the originals (±25% each)", numberOption(0.01, 100), 8.8)
    .option("--detail <n>", "generator texture strength (skips the calibration)", numberOption(0.01, 10))
    .option("--seed <text>", "seed of the generated photos: same seed, same bytes", "thumbs")
    .option("--cache-dir <dir>", "where generated photos are cached", join(".cache", "samples"))
    .option("-o, --out <dir>", "where the reports are written", join("out", "load-test"))
    .option("--no-progress", "no progress bar (for logs and CI)")
    .addOption(
      new Option("--timeout <seconds>", "give up on an order after this long")
        .argParser(intOption(1, 86_400))
        .default(900),
    );
}

const program = new Command()
  .name("thumbs-load-test")
  .description(
    "Times one order end to end (local or a deployed stack) or models Lambda cost. Exit 0 = all done, 1 = failures or inconsistent counts, 2 = could not run.",
  )
  .showHelpAfterError()
  .addHelpText("after", `\n${README}`);

command("local", "Runs the order through the local pipeline between two timings of pure resizing.", true)
  .option("-w, --workers <count>", "worker processes (default: one per core)", intOption(1, 64))
  .option("--concurrency <count>", "images in flight per worker process", intOption(1, 64), 2)
  .option("--slice-size <count>", "images per slice", intOption(1, 10_000), DEFAULT_SLICE_SIZE)
  .option("--no-baseline", "skip timing pure resizing (then no overhead ratios)")
  .option("--order-id <id>", "order id (default: lt-<time>-<random>)")
  .option("--cpu-prof <dir>", "write a V8 CPU profile of each worker process into <dir>")
  .option(
    "--s3-rate-limit <perSecond>",
    "answer worker S3 requests beyond this rate with 503 SlowDown",
    numberOption(1, 100_000),
  )
  .addOption(
    new Option("--retry-mode <mode>", "the workers' AWS SDK retry mode").choices(["standard", "adaptive"]),
  )
  .action((o) =>
    print(
      runLocalLoadTest(
        {
          ...common(o),
          workers: o.workers ?? availableParallelism(),
          concurrencyPerWorker: o.concurrency,
          sliceSize: o.sliceSize,
          baseline: o.baseline,
          orderId: o.orderId,
          cpuProfDir: o.cpuProf,
          s3RateLimit: o.s3RateLimit,
          retryMode: o.retryMode,
        },
        progressOf(o),
      ),
    ),
  );

command("aws", "Runs the order on a deployed stack, cold then warm, via the admin API and the workers' logs.")
  .option("--stack-name <name>", "the CloudFormation stack", "Thumbs")
  .option("--region <region>", "region of the stack (default: AWS_REGION / the profile's)")
  .addOption(
    new Option("--trigger <how>", "invoke the coordinator, or PutEvents to the bus")
      .choices(["invoke", "event"])
      .default("invoke"),
  )
  .option(
    "--event-source <source>",
    "source of the order-completed event (--trigger event)",
    DEFAULT_EVENT_SOURCE,
  )
  .option("--no-force-cold", "do not bump the worker's configuration before the first run")
  .option("--log-wait <seconds>", "how long to wait for the workers' logs", intOption(0, 3600), 120)
  .action((o) =>
    print(
      runAwsLoadTest(
        {
          ...common(o),
          stackName: o.stackName,
          region: o.region,
          trigger: o.trigger,
          eventSource: o.eventSource,
          forceCold: o.forceCold,
          logWaitMs: o.logWait * 1000,
        },
        progressOf(o),
      ),
    ),
  );

command("model", "Predicts the order's Lambda wall time and cost per worker memory × slice size.")
  .option("--from <json>", "the local run to read CPU per image from (default: newest in --out)")
  .option("--cpu-ms <ms>", "CPU time per image at 1 vCPU, instead of a measurement", numberOption(0.1, 1e5))
  .option(
    "--cpu-scale <x>",
    "Lambda vCPU time per unit of this machine's CPU time",
    numberOption(0.1, 10),
    A.cpuScale,
  )
  .option("--cold-start-ms <ms>", "worker cold start at 1 vCPU", latency)
  .option("--s3-get-ms <ms>", "S3 GET time to first byte", latency, A.s3GetFirstByteMs)
  .option("--s3-put-ms <ms>", "both thumbnail PUTs", latency, A.s3PutMs)
  .option("--sns-ms <ms>", "SNS publish → worker invocation", latency, A.snsDeliveryMs)
  .action(async (o) => {
    const cold = o.coldStartMs / 2;
    const overrides = {
      cpuScale: o.cpuScale,
      s3GetFirstByteMs: o.s3GetMs,
      s3PutMs: o.s3PutMs,
      snsDeliveryMs: o.snsMs,
      ...(o.coldStartMs === undefined ? {} : { workerColdStartFixedMs: cold, workerColdStartCpuMs: cold }),
    };
    const model = {
      from: o.from,
      cpuMs: o.cpuMs,
      overrides,
      corpus: common(o),
      images: o.images,
      outDir: o.out,
    };
    const { lines, json } = await runModel(model, progressOf(o).status);
    console.log([...lines, "", `  ${README}`, `\nWrote ${json}`].join("\n"));
  });

function common(o: OptionValues) {
  const { images, seed, megapixels, sizeMb, detail, cacheDir } = o;
  return { images, seed, megapixels, sizeMb, detail, cacheDir, outDir: o.out, timeoutMs: o.timeout * 1000 };
}

function progressOf(o: OptionValues) {
  return createProgress({ bar: o.progress && process.stdout.isTTY === true });
}

async function print(outcome: Promise<LoadTestOutcome>): Promise<void> {
  const { result, files, lines } = await outcome;
  console.log([...lines, `\nWrote ${files.json}\n      ${files.html}`].join("\n"));
  process.exitCode = result.runs.every((r) => r.failed === 0 && r.consistency.ok) ? 0 : 1;
}

// `pnpm load-test -- --flag` passes the `--` through; `--model` and `--target <local|aws>` are older
// spellings of the commands that scripts still use.
function commandLine(args: readonly string[]): string[] {
  const rest = args[0] === "--" ? args.slice(1) : [...args];
  const model = rest.indexOf("--model");
  if (model >= 0) return ["model", ...rest.toSpliced(model, 1)];
  const target = rest.indexOf("--target");
  return target >= 0 ? [rest[target + 1] ?? "", ...rest.toSpliced(target, 2)] : rest;
}

program.parseAsync(commandLine(process.argv.slice(2)), { from: "user" }).then(
  () => process.exit(),
  (error: unknown) => {
    console.error(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(2);
  },
);

import { randomUUID } from "node:crypto";
import { basename } from "node:path";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { uploadOrder } from "@thumbs/local";
import { analyzeRun } from "../analyze.js";
import { type Corpus, loadTestCorpus } from "../corpus.js";
import { bytes, ms } from "../format.js";
import type { LocalLoadTestOptions } from "../local-load-test.js";
import { PRICES } from "../model.js";
import { compactTimestamp, type LoadTestOutcome, resultHeader, writeResult } from "../output.js";
import type { Progress } from "../progress.js";
import type { LoadTestResult, RunResult } from "../result.js";
import { adminApiClient, regionFromApiUrl } from "./admin-api.js";
import { type AwsOrderContext, runAwsOrder } from "./aws-order.js";
import { readStackOutputs } from "./stack-outputs.js";

export interface AwsLoadTestOptions
  extends Pick<
    LocalLoadTestOptions,
    "images" | "seed" | "megapixels" | "sizeMb" | "detail" | "cacheDir" | "outDir" | "timeoutMs"
  > {
  stackName: string;
  region?: string | undefined;
  trigger: "invoke" | "event";
  eventSource: string;
  forceCold: boolean;
  logWaitMs: number;
}

/** The environment variable bumped on the worker to retire its warm instances before the cold run. */
export const COLD_START_VARIABLE = "LOAD_TEST_COLD_START";

/**
 * `--target aws`: the same order on a deployed stack, twice. The first run follows a configuration
 * change of the worker (an environment variable bump), after which Lambda starts new execution
 * environments, so it runs cold; the second run, right after, reuses them and runs warm.
 */
export async function runAwsLoadTest(
  options: AwsLoadTestOptions,
  progress: Progress,
): Promise<LoadTestOutcome> {
  const startedAt = new Date();
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const common = { ...(region ? { region } : {}), credentials: defaultProvider() };
  const outputs = await readStackOutputs(new CloudFormationClient(common), options.stackName);
  const lambda = new LambdaClient(common);
  const worker = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: outputs.WorkerFunctionName }),
  );
  const corpus = await loadTestCorpus({ ...options }, progress.status);
  const prefix = `load-test/${basename(corpus.dir)}/`;
  await uploadIfMissing(new S3Client(common), outputs.SourceBucketName, prefix, corpus, progress);

  const ctx: AwsOrderContext = {
    outputs,
    lambda,
    events: new EventBridgeClient(common),
    logs: new CloudWatchLogsClient(common),
    admin: adminApiClient(
      outputs.AdminApiUrl,
      defaultProvider(),
      options.region ?? regionFromApiUrl(outputs.AdminApiUrl),
    ),
    workerLogGroup: worker.LoggingConfig?.LogGroup ?? `/aws/lambda/${outputs.WorkerFunctionName}`,
    trigger: options.trigger,
    eventSource: options.eventSource,
    prefix,
    totalBytes: corpus.totalBytes,
    timeoutMs: options.timeoutMs,
    logWaitMs: options.logWaitMs,
  };
  const notes: string[] = [
    `Per-image times are the workers' ImageMs EMF metric values and slice times their "slice resized" log lines, read from ${ctx.workerLogGroup}; cold starts and memory come from Lambda's REPORT lines.`,
  ];
  const original = worker.Environment?.Variables ?? {};
  const runs: RunResult[] = [];
  try {
    if (options.forceCold) {
      progress.status(
        `Retiring warm worker instances: setting ${COLD_START_VARIABLE} on ${outputs.WorkerFunctionName}…`,
      );
      await setWorkerEnv(lambda, outputs.WorkerFunctionName, {
        ...original,
        [COLD_START_VARIABLE]: String(Date.now()),
      });
      notes.push(
        `Cold run forced by UpdateFunctionConfiguration (environment variable ${COLD_START_VARIABLE}); the original environment was restored afterwards.`,
      );
    } else notes.push("--no-force-cold: the first run may reuse warm instances.");
    for (const label of options.forceCold ? ["cold", "warm"] : ["first", "warm"]) {
      const orderId = `lt-${compactTimestamp(new Date())}-${label}-${randomUUID().slice(0, 4)}`;
      progress.status(
        `Order ${orderId} (${label}): ${corpus.files.length} images from s3://${outputs.SourceBucketName}/${prefix}`,
      );
      const { observation, logs } = await runAwsOrder(ctx, label, orderId, progress);
      const run = analyzeRun(observation);
      runs.push(run);
      const gbSeconds = (logs.billedMs / 1000) * ((logs.memoryMb ?? 0) / 1024);
      notes.push(
        `${label}: ${logs.invocations} worker invocations, ${logs.coldStarts} cold starts` +
          (logs.initMs.length > 0
            ? ` (init avg ${ms(logs.initMs.reduce((a, b) => a + b, 0) / logs.initMs.length)}, max ${ms(Math.max(...logs.initMs))})`
            : "") +
          `; billed ${gbSeconds.toFixed(1)} GB-s ≈ $${(gbSeconds * PRICES.lambdaGbSecondArm64).toFixed(5)} of worker compute.`,
      );
    }
  } finally {
    if (options.forceCold) await setWorkerEnv(lambda, outputs.WorkerFunctionName, original);
  }
  const sliceSize = runs[0] ? Math.ceil(runs[0].total / Math.max(1, runs[0].slicesPlanned)) : 0;
  const result: LoadTestResult = {
    ...resultHeader("aws", startedAt, options, corpus, {
      workers: null,
      concurrencyPerWorker: null,
      sliceSize,
      workerMemoryMb: worker.MemorySize,
      stackName: options.stackName,
    }),
    runs,
    notes,
  };
  return writeResult(options.outDir, result);
}

async function setWorkerEnv(
  lambda: LambdaClient,
  name: string,
  variables: Record<string, string>,
): Promise<void> {
  await lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: variables } }),
  );
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300 }, { FunctionName: name });
}

/** Uploads the corpus under `prefix` unless every file is already there with its size (reruns are cheap). */
async function uploadIfMissing(
  s3: S3Client,
  bucket: string,
  prefix: string,
  corpus: Corpus,
  progress: Progress,
) {
  const present = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) present.set(o.Key, o.Size ?? -1);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const missing = corpus.files.filter((f) => present.get(`${prefix}${f.name}`) !== f.bytes);
  if (present.size !== corpus.files.length && missing.length === 0) {
    throw new Error(
      `s3://${bucket}/${prefix} holds ${present.size} objects but the order has ${corpus.files.length}: an order is every object under its prefix. Delete the extra objects.`,
    );
  }
  if (missing.length === 0) return progress.status(`Originals already in s3://${bucket}/${prefix}`);
  progress.start("Uploading", missing.length);
  for (let start = 0; start < missing.length; start += 50) {
    await uploadOrder(s3, bucket, prefix, missing.slice(start, start + 50));
    progress.update(Math.min(missing.length, start + 50));
  }
  progress.stop();
  progress.status(
    `Uploaded ${missing.length} originals (${bytes(missing.reduce((s, f) => s + f.bytes, 0))}) to s3://${bucket}/${prefix}`,
  );
}

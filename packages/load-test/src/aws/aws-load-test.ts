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
import { paginateListObjectsV2, S3Client } from "@aws-sdk/client-s3";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { analyzeRun } from "../analyze.js";
import { type Corpus, type CorpusOptions, loadTestCorpus, uploadOriginals } from "../corpus.js";
import { PRICES } from "../model.js";
import type { Progress } from "../progress.js";
import { bytes, compactTimestamp, type LoadTestOutcome, ms, resultHeader, writeResult } from "../report.js";
import type { RunResult } from "../result.js";
import { adminApiClient, regionFromApiUrl } from "./admin-api.js";
import { type AwsOrderContext, runAwsOrder } from "./aws-order.js";
import { readStackOutputs } from "./stack-outputs.js";
import type { WorkerLogSummary } from "./worker-logs.js";

export interface AwsLoadTestOptions extends CorpusOptions {
  outDir: string;
  timeoutMs: number;
  stackName: string;
  region?: string | undefined;
  trigger: "invoke" | "event";
  eventSource: string;
  forceCold: boolean;
  logWaitMs: number;
}

// Bumped on the worker to retire its warm instances before the cold run.
const COLD_START_VARIABLE = "LOAD_TEST_COLD_START";

/** The `aws` command: the same order twice, cold (after a configuration change of the worker) then warm. */
export async function runAwsLoadTest(
  options: AwsLoadTestOptions,
  progress: Progress,
): Promise<LoadTestOutcome> {
  const startedAt = new Date();
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const common = { ...(region ? { region } : {}), credentials: defaultProvider() };
  const outputs = await readStackOutputs(new CloudFormationClient(common), options.stackName);
  const lambda = new LambdaClient(common);
  const workerName = outputs.WorkerFunctionName;
  const worker = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: workerName }));
  const corpus = await loadTestCorpus(options, progress.status);
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
    workerLogGroup: worker.LoggingConfig?.LogGroup ?? `/aws/lambda/${workerName}`,
    trigger: options.trigger,
    eventSource: options.eventSource,
    prefix,
    totalBytes: corpus.totalBytes,
    timeoutMs: options.timeoutMs,
    logWaitMs: options.logWaitMs,
  };
  const notes = options.forceCold ? [] : ["--no-force-cold: the first run may reuse warm instances."];
  const original = worker.Environment?.Variables ?? {};
  const runs: RunResult[] = [];
  try {
    if (options.forceCold) {
      progress.status(`Retiring warm worker instances: setting ${COLD_START_VARIABLE} on ${workerName}…`);
      await setWorkerEnv(lambda, workerName, { ...original, [COLD_START_VARIABLE]: String(Date.now()) });
    }
    for (const label of options.forceCold ? ["cold", "warm"] : ["first", "warm"]) {
      const orderId = `lt-${compactTimestamp(new Date())}-${label}-${randomUUID().slice(0, 4)}`;
      progress.status(
        `Order ${orderId} (${label}): ${corpus.files.length} images from s3://${ctx.outputs.SourceBucketName}/${prefix}`,
      );
      const { observation, logs } = await runAwsOrder(ctx, label, orderId, progress);
      runs.push(analyzeRun(observation));
      notes.push(invocationsNote(label, logs));
    }
  } finally {
    if (options.forceCold) await setWorkerEnv(lambda, workerName, original);
  }
  const sliceSize = runs[0] ? Math.ceil(runs[0].total / Math.max(1, runs[0].slicesPlanned)) : 0;
  const pipeline = {
    workers: null,
    concurrencyPerWorker: null,
    sliceSize,
    workerMemoryMb: worker.MemorySize,
  };
  return writeResult(options.outDir, {
    ...resultHeader("aws", startedAt, options, corpus, { ...pipeline, stackName: options.stackName }),
    runs,
    notes,
  });
}

function invocationsNote(label: string, logs: WorkerLogSummary): string {
  const gbSeconds = (logs.billedMs / 1000) * ((logs.memoryMb ?? 0) / 1024);
  const init =
    logs.initMs.length > 0
      ? ` (init avg ${ms(logs.initMs.reduce((a, b) => a + b, 0) / logs.initMs.length)}, max ${ms(Math.max(...logs.initMs))})`
      : "";
  return `${label}: ${logs.invocations} worker invocations, ${logs.coldStarts} cold starts${init}; billed ${gbSeconds.toFixed(1)} GB-s ≈ $${(gbSeconds * PRICES.lambdaGbSecondArm64).toFixed(5)} of worker compute.`;
}

async function setWorkerEnv(lambda: LambdaClient, name: string, variables: Record<string, string>) {
  await lambda.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: variables } }),
  );
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300 }, { FunctionName: name });
}

/** Uploads the corpus under `prefix` unless every file is already there with its size. */
async function uploadIfMissing(
  s3: S3Client,
  bucket: string,
  prefix: string,
  corpus: Corpus,
  progress: Progress,
) {
  const present = new Map<string, number>();
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) present.set(o.Key ?? "", o.Size ?? -1);
  }
  const missing = corpus.files.filter((f) => present.get(`${prefix}${f.name}`) !== f.bytes);
  if (present.size !== corpus.files.length && missing.length === 0) {
    throw new Error(
      `s3://${bucket}/${prefix} holds ${present.size} objects but the order has ${corpus.files.length}: an order is every object under its prefix. Delete the extra objects.`,
    );
  }
  if (missing.length === 0) return progress.status(`Originals already in s3://${bucket}/${prefix}`);
  await uploadOriginals(s3, bucket, prefix, missing, progress);
  progress.status(
    `Uploaded ${missing.length} originals (${bytes(missing.reduce((s, f) => s + f.bytes, 0))}) to s3://${bucket}/${prefix}`,
  );
}

import { type Env, type EnvironmentOf, envInt, readEnv } from "@thumbs/core";
import { z } from "zod";

/**
 * What a local worker process reads beside the worker's own contract (`workerEnv` in @thumbs/core):
 * the queue that stands in for SNS → Lambda delivery, Lambda's time limit, and local-only test hooks.
 */
export const localWorkerEnv = {
  SLICE_QUEUE_URL: z.string().url().describe("the local slice queue, subscribed to the slice topic"),
  LOCAL_FUNCTION_TIMEOUT_MS: envInt(1, 900_000)
    .default(120_000)
    .describe("each invocation's time limit, as the function's timeout on Lambda"),
  LOCAL_VISIBILITY_TIMEOUT_SECONDS: envInt(1, 43_200)
    .default(60)
    .describe("the queue's visibility timeout: a running invocation renews it every quarter"),
  LOCAL_FAULT_CRASH_ON: z
    .string()
    .min(1)
    .optional()
    .describe("TEST ONLY: kill the process on an S3 request whose path contains this"),
  LOCAL_CPU_PROFILE_DIR: z.string().min(1).optional().describe("write a V8 CPU profile of the process here"),
};

export type LocalWorkerEnvironment = EnvironmentOf<typeof localWorkerEnv>;

export interface LocalWorkerConfig {
  queueUrl: string;
  functionTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  crashOn: string | undefined;
  cpuProfileDir: string | undefined;
}

/** Reads a local worker process's own settings once, at start. */
export function loadLocalWorkerConfig(env: Env = process.env): LocalWorkerConfig {
  const e = readEnv(localWorkerEnv, env);
  return {
    queueUrl: e.SLICE_QUEUE_URL,
    functionTimeoutMs: e.LOCAL_FUNCTION_TIMEOUT_MS,
    visibilityTimeoutSeconds: e.LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    crashOn: e.LOCAL_FAULT_CRASH_ON,
    cpuProfileDir: e.LOCAL_CPU_PROFILE_DIR,
  };
}

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Arch, LambdaRuntime } from "./runtime.js";

const run = promisify(execFile);
const BOOTSTRAP = join(import.meta.dirname, "bootstrap.mjs");

/** One function as the template deploys it, with its bundle from the cloud assembly. */
export interface DeployedFunction {
  name: string;
  /** The bundle's directory (Lambda's task root, /var/task). */
  taskRoot: string;
  handler: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The template's environment, resolved to this machine's stand-ins (environment.ts). */
  environment: Record<string, string>;
}

export type Invocation =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string; trace: string[] };

export interface BundleRun {
  invocations: Invocation[];
  /** Peak resident set after the bundle's init (its top-level code), and over the whole run. */
  initRssBytes: number;
  peakRssBytes: number;
  /** What the function logged (Powertools writes JSON lines to stdout). */
  stdout: string;
  stderr: string;
}

/**
 * The heap flags Lambda's Node.js runtime starts node with for a memory size (its bootstrap: a tenth
 * of the memory for the young generation, half of that per semi-space, the rest for the old one).
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    "--expose-gc",
    "--max-http-header-size=81920",
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

/** The variables Lambda sets for every function, beside the template's own. */
function lambdaEnv(fn: DeployedFunction, region: string): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutSeconds),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    LAMBDA_TASK_ROOT: fn.taskRoot,
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
  };
}

/**
 * Runs events through a function's bundle in one Node.js 22 process, as one warm Lambda container
 * would: Lambda's heap flags for the function's memory, the template's environment (NODE_OPTIONS
 * included) plus `overrides` (endpoints of the local stand-ins), the task root as working directory.
 */
export async function invokeBundle(
  runtime: LambdaRuntime,
  fn: DeployedFunction,
  events: unknown[],
  options: { arch: Arch; region: string; overrides: Record<string, string> },
): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), "thumbs-invoke-"));
  try {
    const eventsFile = join(dir, "events.json");
    const outFile = join(dir, "out.json");
    writeFileSync(eventsFile, JSON.stringify(events));
    const node = runtime.node(options.arch);
    const { stdout, stderr } = await run(
      node.file,
      [
        ...node.args,
        ...lambdaHeapFlags(fn.memoryMb),
        BOOTSTRAP,
        fn.taskRoot,
        fn.handler,
        eventsFile,
        outFile,
      ],
      {
        cwd: fn.taskRoot,
        // Only what Lambda would set: nothing leaks in from the test's own environment.
        env: {
          PATH: process.env.PATH,
          ...fn.environment,
          ...lambdaEnv(fn, options.region),
          ...options.overrides,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`${fn.name}'s bundle exited: ${error.message}\n${error.stderr ?? ""}`.slice(0, 8_000), {
        cause: error,
      });
    });
    const out = JSON.parse(readFileSync(outFile, "utf8")) as {
      init: { rss: number };
      invocations: Invocation[];
      rss: number;
    };
    return {
      invocations: out.invocations,
      initRssBytes: out.init.rss,
      peakRssBytes: out.rss,
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { createInterface } from "node:readline";

/**
 * The runner side of the bench protocol, shared by every child process (node, Python, CLI loops):
 * warm up, print {"ready":true}, wait for one line on stdin, do the timed work, print one result line.
 * The wait lets the parent start every process of an all-cores run at the same instant.
 */
export interface RunnerResult {
  images: number;
  wallMs: number;
  /** Peak resident set of this process, in KiB (getrusage ru_maxrss). */
  maxRssKb: number;
}

export async function readyThenWaitForGo(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once("line", () => resolve()));
  lines.close();
  process.stdin.destroy();
}

export function reportResult(result: RunnerResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function reportError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ error: message })}\n`);
}

/** Reads `--name value` pairs; runners are only started by the bench, so no validation beyond presence. */
export function runnerOption(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
}

export function requireOption(argv: string[], name: string): string {
  const value = runnerOption(argv, name);
  if (value === undefined) throw new Error(`Expected --${name} for the bench runner, received none.`);
  return value;
}

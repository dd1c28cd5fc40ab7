import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

/** `pnpm dashboard` as a user runs it: the built CLI in its own process, with a controlled environment. */
const CLI = fileURLToPath(new URL("../../packages/error-consumer/dist/dashboard-cli.js", import.meta.url));
const API = "https://abc123.execute-api.eu-west-1.amazonaws.com/";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "dashboard-cli-"));
});
afterAll(() => rm(home, { recursive: true, force: true }));

/** No AWS settings from this machine: an empty home (no ~/.aws) and no instance metadata lookups. */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: "true", ...extra };
}

/** Starts the CLI; it is killed when the test ends, if it is still running (the test failed). */
function run(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  return { child, output: () => output };
}

const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

describe("pnpm dashboard (the signing proxy's CLI)", () => {
  it("refuses to start without an API URL, and says how to give one", async () => {
    // Act
    const { child, output } = run([], environment());

    // Assess
    expect(await exitCode(child)).toBe(2);
    expect(output()).toMatch(/No admin API given: pass --api <AdminApiUrl>.*THUMBS_ADMIN_API_URL/);
  });

  it("refuses to start without AWS credentials, and says what to set", async () => {
    // Act
    const { child, output } = run(["--api", API], environment());

    // Assess
    expect(await exitCode(child)).toBe(2);
    expect(output()).toMatch(/No AWS credentials found.*AWS_PROFILE.*aws sso login/);
  });

  it("with credentials, prints the dashboard URL, serves it, guards the API, and stops on Ctrl-C", async () => {
    // Prepare
    const { child, output } = run(
      ["--api", API],
      environment({ AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "example-secret" }),
    );
    const exited = exitCode(child);

    // Act
    await expect
      .poll(output, { timeout: 10_000 })
      .toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\/#token=/);
    const url = new URL(/Dashboard: (\S+)/.exec(output())![1]!);
    const page = await fetch(new URL("/dashboard/", url));
    const unsigned = await fetch(new URL("/api/orders", url));
    child.kill("SIGINT");

    // Assess
    expect(output()).toMatch(
      /Signing requests for https:\/\/abc123\.execute-api\.eu-west-1\.amazonaws\.com \(eu-west-1\)/,
    );
    expect(page.status).toBe(200);
    expect(unsigned.status).toBe(401);
    expect(await exited).toBe(0);
  });

  it("says it could not reach the API only when nothing answers, and refuses an oversized body itself", async () => {
    // Prepare: an API address where nothing listens (a port that was free a moment ago).
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", resolve));
    const deadApi = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/`;
    await new Promise((resolve) => gone.close(resolve));
    const { child, output } = run(
      ["--api", deadApi, "--region", "eu-west-1"],
      environment({ AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "example-secret" }),
    );
    const exited = exitCode(child);
    await expect.poll(output, { timeout: 10_000 }).toMatch(/Dashboard: \S+#token=/);
    const url = new URL(/Dashboard: (\S+)/.exec(output())![1]!);
    const authorization = `Bearer ${url.hash.slice("#token=".length)}`;

    // Act
    const down = await fetch(new URL("/api/orders", url), { headers: { authorization } });
    const oversized = await fetch(new URL("/api/orders/A-1/retry", url), {
      method: "POST",
      headers: { authorization },
      body: "x".repeat(1024 * 1024 + 1),
    });
    child.kill("SIGINT");

    // Assess
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: string }).error).toMatch(
      /^Could not reach the admin API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    expect(oversized.status).toBe(413);
    expect(((await oversized.json()) as { error: string }).error).toMatch(/1 MiB/);
    expect(await exited).toBe(0);
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadTestResult } from "../src/result.js";

const run = promisify(execFile);
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));

// The CLI forks its baseline processes from dist/ (as the local stack forks its workers from
// @thumbs/local's dist/), so the smoke test runs the built CLI, built fresh here.
describe("pnpm load-test --images 20 (smoke, real local pipeline)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "thumbs-load-test-"));
    await run(
      process.execPath,
      [join(PACKAGE, "../../node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: PACKAGE,
      },
    );
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs a small order end to end and writes a consistent JSON and HTML report", async () => {
    // Prepare
    const out = join(dir, "out");
    const args = ["--", "--images", "20", "--megapixels", "0.3", "--detail", "0.5", "--slice-size", "5"];
    args.push("--cache-dir", join(dir, "cache"), "--out", out, "--no-progress");

    // Act
    const { stdout } = await run(process.execPath, [join(PACKAGE, "dist/cli.js"), ...args], {
      cwd: dir,
      env: { ...process.env, FORCE_COLOR: "0" },
    });

    // Assess
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^load-test-\d{8}-\d{6}\.html$/);
    expect(files[1]).toMatch(/^load-test-\d{8}-\d{6}\.json$/);
    const result = JSON.parse(await readFile(join(out, files[1]!), "utf8")) as LoadTestResult;
    const [order] = result.runs;
    expect(result.runs).toHaveLength(1);
    expect(order!.total).toBe(20);
    expect(order!.done + order!.failed).toBe(order!.total);
    expect(order!.images).toHaveLength(20);
    expect(order!.perImageMs.count).toBe(20);
    expect(order!.slices.reduce((sum, s) => sum + s.done + s.failed, 0)).toBe(20);
    expect(order!.slicesPlanned).toBe(4);
    expect(order!.consistency).toEqual({ ok: true, notes: [] });
    expect(result.baseline?.images).toHaveLength(20);
    expect(result.overhead?.ratio).toBeGreaterThan(0);
    expect(["PASS", "MISS"]).toContain(result.overhead?.verdict);
    expect(order!.lanes.every((l) => (l.peakRssBytes ?? 0) > 0)).toBe(true);
    const html = await readFile(join(out, files[0]!), "utf8");
    expect((await stat(join(out, files[0]!))).size).toBeGreaterThan(1000);
    expect(html.match(/<svg/g)?.length).toBe(2);
    expect(stdout).toContain(`${order!.orderId} (local): succeeded`);
    expect(stdout).toMatch(/overhead ratio\s+\d+\.\d{3}\s+goal ≤ 1\.15: (PASS|MISS)/);
    expect(result.baselineBrackets?.map((b) => b.when)).toEqual(["before", "after"]);
    expect(stdout).toMatch(/worker CPU ratio\s+\d+\.\d{3}\s+goal ≤ 1\.15: (PASS|MISS)/);
  }, 60_000);
});

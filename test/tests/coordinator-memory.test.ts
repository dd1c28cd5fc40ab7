import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { deleteKeys } from "@thumbs/local";
import { afterAll, describe, expect, inject, it, onTestFinished } from "vitest";
import { testRedis } from "./helpers/stack.js";

const script = fileURLToPath(new URL("../fixtures/plan-100k.mjs", import.meta.url));
const prefix = `test:${randomUUID().slice(0, 8)}:`;

describe("the coordinator in a 128 MB Lambda", () => {
  afterAll(async () => {
    const redis = testRedis();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("plans and publishes a 100,000-image order with an 80 MB heap", async () => {
    // Prepare: the planning process is ended with the test, should the test end first.
    const ended = new AbortController();
    onTestFinished(() => ended.abort());

    // Act: a heap this small fails with "JavaScript heap out of memory" if the key list is held.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--max-old-space-size=80", script, inject("redisUrl"), prefix],
      { cwd: fileURLToPath(new URL("..", import.meta.url)), signal: ended.signal },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);

    // Assess
    expect(result.report).toMatchObject({ total: 100_000, slices: 1000, created: true });
    expect(result.published).toBe(1000);
    expect(result.heapUsedMb).toBeLessThan(80);
  });
});

import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { awaitOrder } from "../src/await-order.js";
import { type LocalStack, startLocalStack } from "../src/stack.js";
import { startWorkerPool, type WorkerPool, type WorkerPoolEvent } from "../src/worker-pool.js";
import { emit, uniqueOrderId, uploadPhotos, useRedis } from "./helpers/stack.js";

const redis = useRedis();
const readyPids = (events: WorkerPoolEvent[]) => events.flatMap((e) => (e.type === "ready" ? [e.pid] : []));
const exits = (events: WorkerPoolEvent[]) => events.filter((e) => e.type === "exited");
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the worker pool", () => {
  let stack: LocalStack | undefined;
  let pool: WorkerPool | undefined;
  afterEach(async () => {
    await stack?.stop();
    await pool?.stop();
    stack = undefined;
    pool = undefined;
    vi.restoreAllMocks();
  });

  it("replaces workers killed from outside, and the replacements process the work", async () => {
    // Prepare
    stack = await startLocalStack({ workers: 2, sliceSize: 2, redis: redis() });
    const orderId = uniqueOrderId("replaced");
    const keys = await uploadPhotos(stack, orderId, 4);
    const original = stack.workers.processes.map((p) => p.pid!);

    // Act: kill both, as the OOM killer would, then give the pool an order.
    for (const pid of original) process.kill(pid, "SIGKILL");
    const { workers } = stack;
    await expect
      .poll(() => readyPids(workers.events).filter((pid) => !original.includes(pid)).length)
      .toBe(2);
    await emit(stack, orderId, keys);
    const progress = await awaitOrder(stack.ledger, orderId, { timeoutMs: 30_000 });

    // Assess
    expect(exits(workers.events).sort((a, b) => a.pid - b.pid)).toEqual(
      original.sort((a, b) => a - b).map((pid) => ({ type: "exited", pid, code: null, signal: "SIGKILL" })),
    );
    expect(workers.processes).toHaveLength(2);
    expect(progress).toMatchObject({ done: 4, failed: 0, complete: true });
    // A worker reports its slice after recording it (and announcing): wait for the reports too.
    const workedOn = () => workers.events.flatMap((e) => (e.type === "slices" ? [e.pid] : []));
    await expect.poll(() => workedOn().length).toBeGreaterThan(0);
    expect(workedOn().filter((pid) => original.includes(pid))).toEqual([]);
  });

  it("killOne() waits for the replacement and records no unexpected exit", async () => {
    // Prepare
    stack = await startLocalStack({ workers: 1, redis: redis() });
    const [victim] = stack.workers.processes.map((p) => p.pid!);

    // Act
    await stack.workers.killOne();

    // Assess
    const live = stack.workers.processes.map((p) => p.pid!);
    expect(live).toHaveLength(1);
    expect(live).not.toContain(victim);
    expect(readyPids(stack.workers.events)).toContain(live[0]);
    expect(exits(stack.workers.events)).toEqual([]);
  });

  it("stop() replaces nobody", async () => {
    // Prepare
    stack = await startLocalStack({ workers: 2, redis: redis() });
    const pids = stack.workers.processes.map((p) => p.pid!);

    // Act
    await stack.workers.stop();

    // Assess: every exit during stop() is expected, so none is recorded or replaced.
    expect(stack.workers.processes).toEqual([]);
    expect(exits(stack.workers.events)).toEqual([]);
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it("gives up, saying so on stderr, when workers keep dying right after starting", async () => {
    // Prepare: a stand-in worker that exits just after it is ready.
    const stderr = vi.spyOn(console, "error").mockImplementation(() => {});
    const entry = fileURLToPath(new URL("./fixtures/exit-after-ready.mjs", import.meta.url));

    // Act
    pool = await startWorkerPool(1, {}, { entry, respawn: { baseDelayMs: 10, maxQuickExits: 3 } });
    const { events } = pool;
    await expect.poll(() => events.some((e) => e.type === "gave-up"), { timeout: 10_000 }).toBe(true);

    // Assess: the first start plus three replacements, each exit quick, then no more.
    expect(exits(events)).toHaveLength(4);
    expect(readyPids(events)).toHaveLength(4);
    expect(pool.processes).toEqual([]);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining("stopped replacing them"));
  });
});

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import getPort from "get-port";
import { Redis } from "ioredis";
import { pEvent } from "p-event";
import { RedisUnavailableError } from "./errors.js";

export interface RedisHandle {
  url: string;
  /** How it was found: REDIS_URL, a redis-server we started, or a testcontainers container. */
  source: "REDIS_URL" | "redis-server" | "testcontainers";
  stop(): Promise<void>;
  /** Stops and starts the server on the same port (only for a redis-server we own): for fault tests. */
  restart?(downMs?: number): Promise<void>;
}

async function ping(url: string, timeoutMs = 2_000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {}); // reported through connect()/ping() below
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** How long ioredis waits before connecting again while the server is not listening yet. */
const RECONNECT_MS = 50;

/**
 * Resolves once the server at `url` accepts commands: ioredis connects again every RECONNECT_MS until
 * the server listens, and its ready check waits until the server has loaded its data (the append-only
 * file, after a restart). Rejects after `timeoutMs`, with the last connection error as the cause.
 */
async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const client = new Redis(url, { connectTimeout: 500, retryStrategy: () => RECONNECT_MS });
  let lastError: Error | undefined;
  client.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await pEvent(client, "ready", { rejectionEvents: [], timeout: timeoutMs });
  } catch (error) {
    throw new Error(
      `redis-server at ${url} was not ready within ${timeoutMs} ms (${lastError?.message ?? "no connection error"}).`,
      { cause: lastError ?? error },
    );
  } finally {
    client.disconnect();
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a `redis-server` on a free loopback port. `persistDir` turns on the append-only file (fsync on
 * every write), so a restart keeps every record — as a replicated ElastiCache keeps them on failover.
 */
export async function startRedisServer(options: { persistDir?: string } = {}): Promise<RedisHandle> {
  const port = await getPort({ host: "127.0.0.1" });
  const persistence = options.persistDir
    ? ["--dir", options.persistDir, "--appendonly", "yes", "--appendfsync", "always"]
    : ["--appendonly", "no"];
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const launch = async () => {
    // By default no persistence: this server only ever holds one run's progress.
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence],
      {
        stdio: "ignore",
      },
    );
    await waitUntilReady(url, 10_000);
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  await launch();
  process.once("exit", () => child.kill("SIGKILL"));
  return {
    url,
    source: "redis-server",
    stop: kill,
    restart: async (downMs = 0) => {
      await kill();
      await sleep(downMs);
      await launch();
    },
  };
}

async function startContainer(): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("redis:7.4-alpine")
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return { url, source: "testcontainers", stop: async () => void (await container.stop()) };
}

/**
 * Finds a Redis for the local runtime and tests, in this order: REDIS_URL; a `redis-server` started
 * on a free port; a container via testcontainers when a container runtime answers. Otherwise throws
 * RedisUnavailableError saying what to install.
 */
export async function findOrStartRedis(
  env: Record<string, string | undefined> = process.env,
): Promise<RedisHandle> {
  const tried: string[] = [];
  if (env.REDIS_URL) {
    try {
      await ping(env.REDIS_URL);
    } catch (error) {
      throw new RedisUnavailableError(
        [`REDIS_URL=${env.REDIS_URL} is set but did not answer PING (${(error as Error).message})`],
        {
          cause: error,
        },
      );
    }
    return { url: env.REDIS_URL, source: "REDIS_URL", stop: async () => {} };
  }
  tried.push("REDIS_URL is not set");
  if (hasRedisServer()) return startRedisServer();
  tried.push("redis-server is not on PATH");
  try {
    return await startContainer();
  } catch (error) {
    tried.push(`no container runtime answered (${(error as Error).message.split("\n")[0]})`);
    throw new RedisUnavailableError(tried, { cause: error });
  }
}

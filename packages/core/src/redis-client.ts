import { Redis, type RedisOptions } from "ioredis";

/**
 * One Redis connection per process, created at module scope by each Lambda and passed in.
 * Auto-pipelining batches the many small per-image writes of a slice into few round trips.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    enableAutoPipelining: true,
    // While Redis is away (a restart, a failover) commands wait in ioredis' offline queue and are sent
    // again on reconnect: ~15 s of buffering, then the command fails and the slice is redelivered.
    maxRetriesPerRequest: 20,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    connectTimeout: 5_000,
    // A command that gets no answer (a half-open connection after a failover) fails instead of hanging
    // the slice; keep-alive probes notice a dead peer on an idle connection.
    commandTimeout: 5_000,
    keepAlive: 10_000,
    // After an ElastiCache failover the old primary answers writes with READONLY: reconnect (DNS now
    // names the new primary) and resend the command.
    reconnectOnError: (error) => (error.message.startsWith("READONLY") ? 2 : false),
    // ElastiCache with transit encryption presents a certificate for its own endpoint name.
    ...(url.startsWith("rediss://") ? { tls: {} } : {}),
    ...options,
  });
  // Connection errors are retried by retryStrategy and surface as failed commands where they matter;
  // without a listener ioredis would print each reconnect attempt as an unhandled error.
  client.on("error", () => {});
  return client;
}

/**
 * The Redis password, when the deployment keeps an ElastiCache AUTH token in Secrets Manager.
 * The secret may be the token itself or JSON with a `password` field. Fetched once per cold start
 * (Powertools caches it), so the token never sits in the function's environment.
 */
export async function redisPassword(authSecretArn: string | undefined): Promise<string | undefined> {
  if (!authSecretArn) return undefined;
  const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
  const value = await getSecret(authSecretArn, { maxAge: 3600 });
  const text = typeof value === "string" ? value : Buffer.from(value as Uint8Array).toString("utf8");
  try {
    const parsed = JSON.parse(text) as { password?: unknown };
    if (typeof parsed.password === "string") return parsed.password;
  } catch {
    // not JSON: the secret is the token itself
  }
  return text;
}

/** Connects to Redis with the settings every Lambda shares (see RedisSettings in config.ts). */
export async function connectRedis(settings: {
  url: string;
  authSecretArn: string | undefined;
}): Promise<Redis> {
  const password = await redisPassword(settings.authSecretArn);
  return createRedis(settings.url, password ? { password } : {});
}

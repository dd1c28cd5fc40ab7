import { Redis, type RedisOptions } from "ioredis";

/**
 * One Redis connection per process, created at module scope by each Lambda and passed in.
 * Auto-pipelining batches the many small per-image writes of a slice into few round trips.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 3,
    connectTimeout: 5_000,
    // ElastiCache with transit encryption presents a certificate for its own endpoint name.
    ...(url.startsWith("rediss://") ? { tls: {} } : {}),
    ...options,
  });
}

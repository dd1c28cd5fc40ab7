import { ThumbsError } from "@thumbs/core";

/** No Redis could be found or started. The message lists what to install. */
export class RedisUnavailableError extends ThumbsError {
  constructor(tried: string[], options?: { cause?: unknown }) {
    super(
      [
        "No Redis server is available for the local pipeline.",
        ...tried.map((t) => `  - ${t}`),
        "Possible solutions:",
        "  - Point REDIS_URL at a running Redis 6.2+:  REDIS_URL=redis://127.0.0.1:6379",
        "  - Install redis-server so it can be started on a free port:",
        "      Debian/Ubuntu: sudo apt-get install redis-server    macOS: brew install redis",
        "  - Or start a Docker engine: a redis container is then started with testcontainers.",
      ].join("\n"),
      options,
    );
    this.name = "RedisUnavailableError";
  }
}

/** A worker process exited or failed to start. */
export class WorkerProcessError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WorkerProcessError";
  }
}

// Types of request-queue.js, for the package's tests (the dashboard itself has no build step).

export declare const RETRY_STATUSES: ReadonlySet<number>;

export interface QueueSettings {
  concurrency: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

export declare const DEFAULTS: QueueSettings;

export declare function parseRetryAfter(value: string | null | undefined, now?: number): number | undefined;

export declare function backoffMs(
  attempt: number,
  options?: Partial<QueueSettings>,
  random?: () => number,
): number;

export declare class QueueCleared extends Error {}

/** What the queue needs of a fetch Response. */
export interface QueueResponse {
  status: number;
  headers: { get(name: string): string | null };
}

export interface RequestQueue {
  run<R extends QueueResponse>(
    send: () => Promise<R>,
    options?: { unlimited?: boolean },
  ): Promise<{ response: R; attempts: number }>;
  clear(): void;
  readonly stats: {
    sent: number;
    retried: number;
    throttled: number;
    gaveUp: number;
    maxInFlight: number;
  };
  readonly settings: QueueSettings;
}

export declare function createRequestQueue(
  options?: Partial<QueueSettings> & {
    random?: () => number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  },
): RequestQueue;

/**
 * Errors of the core package. Each keeps `cause` so the original stays inspectable in logs.
 */
export class ThumbsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ThumbsError";
  }
}

/** A config value is missing or malformed. The message names the environment variable. */
export class ConfigError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** An event or message does not match its contract. */
export class ContractError extends ThumbsError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ContractError";
  }
}

/** The order is unknown to Redis (never planned, or its records expired). */
export class OrderNotFoundError extends ThumbsError {
  constructor(
    readonly orderId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Order "${orderId}" is not known: it was never planned, its records expired, or Redis lost them ` +
        "(a restart without persistence). Re-send its order-completed event to plan it again: images " +
        "that already have thumbnails are redone under the same keys, and nothing is counted twice.",
      options,
    );
    this.name = "OrderNotFoundError";
  }
}

/** The same order id was planned again with other images or another output spec. */
export class OrderConflictError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OrderConflictError";
  }
}

/** Some slices could not be published even after retries; the caller's whole invocation is retried. */
export class PublishError extends ThumbsError {
  constructor(
    message: string,
    readonly failedSlices: readonly number[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PublishError";
  }
}

/** A slice message does not match its order's plan (or the order is unknown): it is refused, not retried. */
export class SliceRefusedError extends ThumbsError {
  constructor(
    readonly orderId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SliceRefusedError";
  }
}

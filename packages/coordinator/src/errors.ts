import { ThumbsError } from "@thumbs/core";

/** The event names a bucket outside ALLOWED_SOURCE_BUCKETS. */
export class BucketNotAllowedError extends ThumbsError {
  constructor(bucket: string, allowed: readonly string[]) {
    super(
      `Bucket "${bucket}" is not an allowed source bucket; expected one of: ${allowed.join(", ")} (ALLOWED_SOURCE_BUCKETS).`,
    );
    this.name = "BucketNotAllowedError";
  }
}

/** Some slices could not be published even after retries; the whole invocation is retried. */
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

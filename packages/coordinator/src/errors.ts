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

import { ThumbsError } from "@thumbs/core";

/** A slice could not be processed as a whole (e.g. Redis unreachable); the slice is retried. */
export class SliceError extends ThumbsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SliceError";
  }
}

import { ThumbsError } from "@thumbs/core";

/** An error with an HTTP status, raised by the API core and rendered by either adapter. */
export class HttpError extends ThumbsError {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HttpError";
  }
}

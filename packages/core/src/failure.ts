import { MAX_ERROR_MESSAGE_LENGTH } from "./constants.js";
import { ThumbsError } from "./errors.js";

/**
 * Every per-image failure ends as exactly one of these classes.
 * `Transient` is the only one worth retrying unchanged; the others need a new original or new limits.
 */
export const FAILURE_CLASSES = [
  "NotFound",
  "Corrupt",
  "Unsupported",
  "TooLarge",
  "Transient",
  "AccessDenied",
  "Crashed",
  "ProcessingFailed",
  "Internal",
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** What the admin sees next to each class: how to fix it. */
export const FAILURE_ADVICE: Record<FailureClass, string> = {
  NotFound: "The original is not in the bucket: re-upload it, then retry.",
  Corrupt: "The file is damaged, truncated or empty: re-upload the original, then retry.",
  Unsupported:
    "Not an image format the pipeline decodes (JPEG, PNG, WebP, AVIF, HEIC, GIF, TIFF): convert it, then retry.",
  TooLarge:
    "The image exceeds the configured byte, pixel or time limit: upload a smaller image or raise the limit.",
  Transient: "A temporary S3 or network problem outlasted the retries: retry the image.",
  AccessDenied: "The pipeline may not read the original or write the thumbnail: check bucket policy and IAM.",
  Crashed:
    "The worker died twice while resizing this image (out of memory, or a crash in the decoder): check the file, " +
    "or raise the worker's memory, then retry.",
  ProcessingFailed:
    "The slice holding this image failed every attempt, so it was never resized (the message says why): " +
    "fix the cause, then retry.",
  Internal: "An unexpected error in the pipeline: report it with the order id and key.",
};

/** A classified per-image failure. `message` is safe to show to an admin; `cause` keeps the original. */
export class ImageFailure extends ThumbsError {
  constructor(
    readonly failureClass: FailureClass,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(sanitizeMessage(message), options);
    this.name = "ImageFailure";
  }
}

type ErrorLike = {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
};

const asErrorLike = (error: unknown): ErrorLike =>
  typeof error === "object" && error !== null ? (error as ErrorLike) : { message: String(error) };

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  // undici's own timeouts (the worker's S3 requests): connecting, the response, a gap in the body.
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const TRANSIENT_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "InternalError",
  "ServiceUnavailable",
  "AbortError",
]);

/** Maps an S3 SDK error (after the SDK's own retries) to a failure class. */
export function classifyS3Error(error: unknown, action: "read" | "write"): ImageFailure {
  if (error instanceof ImageFailure) return error;
  const e = asErrorLike(error);
  const status = e.$metadata?.httpStatusCode;
  const detail = e.name && e.name !== "Error" ? e.name : (e.code ?? e.message ?? "unknown error");
  if (action === "read" && (e.name === "NoSuchKey" || e.name === "NotFound" || status === 404)) {
    return new ImageFailure("NotFound", "The original object does not exist (S3 404 NoSuchKey).", {
      cause: error,
    });
  }
  if (e.name === "AccessDenied" || status === 403) {
    return new ImageFailure("AccessDenied", `S3 refused to ${action} the object (403 ${detail}).`, {
      cause: error,
    });
  }
  if (
    TRANSIENT_NAMES.has(e.name ?? "") ||
    NETWORK_CODES.has(e.code ?? "") ||
    NETWORK_CODES.has(e.name ?? "") ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    e.$retryable !== undefined
  ) {
    return new ImageFailure(
      "Transient",
      `S3 ${action} failed after retries (${status ?? "no status"} ${detail}).`,
      { cause: error },
    );
  }
  return new ImageFailure("Internal", `S3 ${action} failed unexpectedly (${status ?? ""} ${detail}).`, {
    cause: error,
  });
}

const TIMED_OUT = "Decoding took longer than the per-image time limit";

/** Patterns of libvips/sharp messages, most specific first. */
const DECODE_RULES: ReadonlyArray<[RegExp, FailureClass, string]> = [
  [/pixel limit/i, "TooLarge", "The image has more pixels than the configured limit"],
  [/timeout/i, "TooLarge", TIMED_OUT],
  // Only libheif's "Unsupported …" means a codec we lack (HEVC); its "Invalid input" is damaged data.
  [
    /heif\w*: Unsupported|heic|unsupported image format|not a known file format|No decoding plugin/i,
    "Unsupported",
    "",
  ],
  [
    /premature end|truncat|corrupt|unexpected end|invalid|bad |read error|not a (png|jpeg)|crc|marker|huffman/i,
    "Corrupt",
    "",
  ],
];

/** sharp's prefix when the header could not be read; it precedes libvips' own lines. */
const CORRUPT_HEADER = /^Input (buffer|file) has corrupt header:\s*/;
/**
 * Lines that say nothing about this image's failure: libvips logs every seek libheif makes past the end
 * of a buffer while probing, even for sound AVIF files, and those lines come first.
 */
const PROBE_NOISE = /^source: bad seek to \d+$/;
/** sharp's own timeout line. */
const TIMEOUT_LINE = /^timeout: \d+% complete$/;

/**
 * What the decoder said about this image. libvips keeps one error buffer per process and sharp reports
 * all of it, so the message may begin with probe noise, and, when several images are decoded at once,
 * may carry another image's line (e.g. its timeout) or nothing at all ("Unknown error"). The worker
 * runs such failures again alone for their own line (worker/src/resize.ts); this stays defensive.
 */
function decodeReason(message: string, ignore: RegExp | undefined): string {
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const corruptHeader = CORRUPT_HEADER.test(lines[0] ?? "");
  const reasons = lines
    .map((line) => line.replace(CORRUPT_HEADER, "").trim())
    .filter((line) => line && !PROBE_NOISE.test(line) && !ignore?.test(line));
  if (reasons.length === 0) return lines.find((line) => !ignore?.test(line)) ?? "";
  return corruptHeader ? `Input buffer has corrupt header: ${reasons[0]}` : reasons[0]!;
}

/**
 * How long the failed decode ran, and its limit. With it, a timeout line that cannot be this image's
 * (it ran for less than the limit) is ignored, and a decode that ran past the limit and lost its
 * message is a timeout. Without it the message is taken at its word.
 */
export interface DecodeTiming {
  elapsedMs: number;
  timeoutSeconds: number;
}

/** Maps a sharp/libvips decode or encode error to a failure class. */
export function classifyDecodeError(error: unknown, timing?: DecodeTiming): ImageFailure {
  if (error instanceof ImageFailure) return error;
  // sharp's timer starts after the caller's clock, so a real timeout always measures at least the limit.
  const ranPastLimit = timing ? timing.elapsedMs >= timing.timeoutSeconds * 1000 : undefined;
  const raw =
    decodeReason(
      asErrorLike(error).message ?? String(error),
      ranPastLimit === false ? TIMEOUT_LINE : undefined,
    ) || "Unknown error";
  if (ranPastLimit && (raw === "Unknown error" || TIMEOUT_LINE.test(raw))) {
    return new ImageFailure("TooLarge", `${TIMED_OUT} (${raw}).`, { cause: error });
  }
  for (const [pattern, failureClass, summary] of DECODE_RULES) {
    if (pattern.test(raw)) {
      const lead =
        summary ||
        (failureClass === "Unsupported"
          ? "The file is not in an image format the pipeline decodes"
          : "The image data is damaged or truncated");
      return new ImageFailure(failureClass, `${lead} (${raw}).`, { cause: error });
    }
  }
  return new ImageFailure("Corrupt", `The image could not be decoded (${raw}).`, { cause: error });
}

const firstLine = (text: string): string => text.split("\n", 1)[0]?.trim() ?? "";

/**
 * Makes a message safe to store for the admin: one line, no stack, no file-system paths,
 * no credentials, bounded length.
 */
export function sanitizeMessage(message: string): string {
  return firstLine(message)
    .replace(/\b(rediss?|https?):\/\/[^@\s/]*@/gi, "$1://<redacted>@")
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, "<redacted-key>")
    .replace(/\b(password|secret|token|authorization)\s*[=:]\s*\S+/gi, "$1=<redacted>")
    .replace(/(?:^|(?<=[\s('"]))(?:\/[\w.@+-]+){2,}\/?/g, "<path>")
    .replace(/\b[A-Za-z]:\\[^\s)'"]+/g, "<path>")
    .replace(/\s+at\s+\S+\s+\(.*$/, "")
    .slice(0, MAX_ERROR_MESSAGE_LENGTH);
}

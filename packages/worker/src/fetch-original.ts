import { classifyS3Error, ImageFailure } from "@thumbs/core";
import type { InputBuffers } from "./input-buffers.js";
import type { ObjectBody, S3Objects } from "./s3-objects.js";

type Body = ObjectBody["body"];

/**
 * Downloads one original into memory, refusing anything over `maxBytes` before reading its body.
 * A buffer, not a stream into sharp: sharp gathers a stream into one buffer before decoding anyway
 * (JPEG shrink-on-load needs the whole file), and a buffer lets the worker sniff the format first.
 * The body is streamed into that one buffer as it arrives, so the original is held once (see readBody),
 * and that buffer comes from `buffers` when given: the caller gives it back once the image is done.
 */
export async function fetchOriginal(
  s3: S3Objects,
  bucket: string,
  key: string,
  maxBytes: number,
  signal?: AbortSignal,
  buffers?: InputBuffers,
): Promise<Buffer> {
  let response: ObjectBody;
  try {
    response = await s3.get(bucket, key, signal);
  } catch (error) {
    throw classifyS3Error(error, "read");
  }
  const { body, contentLength } = response;
  if (contentLength !== undefined && contentLength > maxBytes) {
    body.destroy();
    throw tooLarge(contentLength, maxBytes);
  }
  // The request's abort signal may no longer reach a body that is already streaming: a stalled body
  // must end at the image's deadline too.
  const abort = () => body.destroy(signal?.reason);
  signal?.addEventListener("abort", abort, { once: true });
  try {
    return await readBody(body, contentLength, maxBytes, buffers);
  } catch (error) {
    body.destroy();
    throw error instanceof ImageFailure ? error : classifyS3Error(error, "read");
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

/**
 * Copies the body's chunks into one buffer of the declared length as they arrive. The SDK's
 * transformToByteArray() keeps every chunk and then concatenates them, holding the original twice at
 * its peak. Without a declared length (some S3-compatible stores), chunks are kept, but reading stops
 * as soon as they pass `maxBytes`.
 */
async function readBody(
  body: Body,
  declared: number | undefined,
  maxBytes: number,
  buffers: InputBuffers | undefined,
): Promise<Buffer> {
  if (declared === undefined) {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(total, maxBytes, "at least ");
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  }
  const out = buffers?.take(declared) ?? Buffer.allocUnsafe(declared);
  try {
    const at = await copyEvents(body, out);
    if (at !== declared) {
      throw new ImageFailure(
        "Transient",
        `S3 ended the body after ${at} of ${declared} bytes: retry the image.`,
      );
    }
    return out;
  } catch (error) {
    buffers?.give(out);
    throw error;
  }
}

const tooLong = (declared: number) =>
  new ImageFailure(
    "Transient",
    `S3 sent more than the ${declared} bytes its Content-Length declared: retry the image.`,
  );

/**
 * The body's chunks copied into `out` from its "data" events, which the response stream emits as the
 * socket delivers them: without the async iterator's promise per chunk. Settles with the byte count at the end, or fails on an error or a close before the end.
 */
function copyEvents(body: Body, out: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let at = 0;
    let settled = false;
    const onData = (chunk: Buffer) => {
      if (at + chunk.byteLength > out.length) return finish(tooLong(out.length));
      out.set(chunk, at);
      at += chunk.byteLength;
    };
    const onEnd = () => finish();
    const onClose = () =>
      finish(new ImageFailure("Transient", "S3 closed the connection mid-body: retry the image."));
    // The error listener stays: an error after the outcome (the caller destroys the body) is not thrown.
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("close", onClose);
      if (error === undefined) resolve(at);
      else reject(error);
    };
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", finish);
    body.on("close", onClose);
  });
}

const tooLarge = (bytes: number, maxBytes: number, qualifier = "") =>
  new ImageFailure(
    "TooLarge",
    `The original is ${qualifier}${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} limit (MAX_INPUT_BYTES).`,
  );

const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;

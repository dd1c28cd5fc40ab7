import { Worker } from "node:worker_threads";
import { ImageFailure } from "@thumbs/core";
import { Semaphore } from "async-mutex";
import sharp from "sharp";
import { heicDecodeMb, heicMemoryBudgetMb } from "./concurrency.js";
import { decodeTimedOut, heicNeedsMoreMemory, tooManyPixels } from "./errors.js";

/**
 * HEIC/HEIF photos (HEVC-coded) decoded by libheif in WebAssembly, since sharp's prebuilt libvips has
 * no HEVC decoder. The decode runs in a worker thread (heic-thread.mjs), bounded three ways:
 * - pixels: the header (read by sharp, no pixel decoded) must be within MAX_INPUT_PIXELS;
 * - memory: each decode holds its estimated peak (heicDecodeMb) of a budget (heicMemoryBudgetMb), so
 *   large HEICs wait for each other instead of exhausting the worker together;
 * - time: the thread is terminated at the image's deadline; a WebAssembly call cannot be interrupted.
 */
export interface HeicLimits {
  maxInputPixels: number;
  timeoutSeconds: number;
}

/** A decoded HEIC: `release` returns its share of the memory budget once sharp is done with `tiff`. */
export interface DecodedHeic {
  tiff: Buffer;
  release: () => void;
}

/**
 * The primary image of an HEVC-coded HEIF as an uncompressed TIFF with its colour profile, for sharp;
 * undefined for any other HEIF (AV1-coded is AVIF, which sharp decodes itself).
 */
export async function heicAsTiff(input: Buffer, limits: HeicLimits): Promise<DecodedHeic | undefined> {
  // Header only, so no pixel limit here: a HEIC over MAX_INPUT_PIXELS is refused below, with its size.
  const header = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw new ImageFailure("Corrupt", `The HEIC/HEIF header could not be read (${reason(error)}).`, {
        cause: error,
      });
    });
  if (header.compression !== "hevc") return undefined;
  const { width, height } = header;
  if (width * height > limits.maxInputPixels) throw tooManyPixels(width, height, limits.maxInputPixels);
  const neededMb = heicDecodeMb(width * height, input.length);
  const budgetMb = memory.budgetMb;
  if (neededMb > budgetMb) throw heicNeedsMoreMemory(width, height, neededMb, budgetMb);
  const started = performance.now();
  // Held until the caller releases it: the decoded TIFF lives on while sharp makes the thumbnails.
  const [, releasePermits] = await memory.semaphore.acquire(neededMb);
  let released = false;
  const release = () => {
    if (!released) releasePermits();
    released = true;
  };
  try {
    // Time spent waiting for memory counts against the image's deadline too.
    const leftMs = limits.timeoutSeconds * 1000 - (performance.now() - started);
    if (leftMs <= 0) throw decodeTimedOut("the HEIC decode (waiting for memory)", limits.timeoutSeconds);
    const reply = await inThread(
      { input, maxPixels: limits.maxInputPixels, p3Icc: await displayP3Icc() },
      leftMs,
      limits.timeoutSeconds,
    );
    if (reply.ok) {
      return { tiff: Buffer.from(reply.tiff.buffer, reply.tiff.byteOffset, reply.tiff.byteLength), release };
    }
    if (reply.tooLarge) {
      const [w, h] = reply.message.split("×").map(Number);
      throw tooManyPixels(w ?? 0, h ?? 0, limits.maxInputPixels);
    }
    throw new ImageFailure("Corrupt", `The HEIC/HEIF image could not be decoded (${reply.message}).`);
  } catch (error) {
    release();
    throw error;
  }
}

const memory = {
  budgetMb: heicMemoryBudgetMb(),
  semaphore: new Semaphore(heicMemoryBudgetMb()),
};

/**
 * A thread whose WebAssembly heap has grown past this after a decode is ended rather than kept idle:
 * a heap never shrinks, and one 48 MP photo would otherwise pin ~400 MB for the life of the process.
 */
const KEEP_HEAP_BYTES = 256 * 1024 * 1024;
/** Idle threads kept ready: starting one compiles libheif (~0.4 s), which a photo should not wait for. */
const MAX_IDLE_THREADS = 2;
const THREAD_FILE = new URL("./heic-thread.mjs", import.meta.url);
const idle: Worker[] = [];

type Reply =
  | { ok: true; tiff: Uint8Array; heapBytes: number }
  | { ok: false; message: string; tooLarge: boolean; fatal: boolean; heapBytes: number };

function inThread(
  request: { input: Buffer; maxPixels: number; p3Icc: Buffer },
  deadlineMs: number,
  timeoutSeconds: number,
): Promise<Reply> {
  const thread = idle.pop() ?? new Worker(THREAD_FILE);
  // A thread neither holds the process open nor keeps its heap once the process is done with it.
  thread.unref();
  return new Promise<Reply>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      thread.removeAllListeners("message").removeAllListeners("error").removeAllListeners("exit");
    };
    const timer = setTimeout(() => {
      done();
      void thread.terminate();
      reject(decodeTimedOut("the HEIC decode", timeoutSeconds));
    }, deadlineMs);
    thread.on("message", (reply: Reply) => {
      done();
      const keep = !(!reply.ok && reply.fatal) && reply.heapBytes <= KEEP_HEAP_BYTES;
      if (!keep || idle.length >= MAX_IDLE_THREADS) void thread.terminate();
      else idle.push(thread);
      resolve(reply);
    });
    thread.on("error", (error) => {
      done();
      void thread.terminate();
      reject(new ImageFailure("Corrupt", `The HEIC decoder failed on this image (${reason(error)}).`));
    });
    thread.on("exit", (code) => {
      done();
      reject(new ImageFailure("Corrupt", `The HEIC decoder stopped on this image (exit code ${code}).`));
    });
    thread.postMessage(request);
  });
}

let p3Profile: Promise<Buffer> | undefined;

/** Display P3's ICC profile, as sharp ships it: for HEICs that declare P3 primaries in an nclx box. */
function displayP3Icc(): Promise<Buffer> {
  p3Profile ??= sharp({ create: { width: 1, height: 1, channels: 3, background: "#000" } })
    .withIccProfile("p3")
    .png()
    .toBuffer()
    .then(async (png) => (await sharp(png).metadata()).icc!);
  return p3Profile;
}

/** The decoder's own line: libvips logs every seek libheif makes past the end of a buffer first. */
const reason = (error: unknown): string => {
  const lines = (error instanceof Error ? error.message : String(error))
    .split("\n")
    .map((line) => line.replace(/^Input buffer has corrupt header:\s*/, "").trim())
    .filter((line) => line && !/^source: bad seek to \d+$/.test(line));
  return lines[0] ?? "unknown error";
};

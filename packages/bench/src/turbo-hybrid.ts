/**
 * The what-if row: would swapping sharp's JPEG decoder for bare libjpeg-turbo bring the resize core
 * near bare libjpeg-turbo's decode floor? This contender decodes with the system's
 * libjpeg-turbo through its TurboJPEG API (called through koffi, an FFI), at the same DCT scale as
 * the floor, then hands the pixels to sharp for the rest of ours' scheme: linear to the large size,
 * encode, the small size from the encoded large. Bench-only and JPEG-only; it skips what the worker
 * must also do for real uploads (ICC profiles, CMYK, the input safeguards), so it is a lower bound
 * for such a decoder swap, not a candidate. docs/PERFORMANCE.md has what it measured.
 */
import { createRequire } from "node:module";
import { DEFAULT_OUTPUT } from "@thumbs/core";
import type * as Koffi from "koffi";
import sharp, { type Sharp } from "sharp";

/** Debian's `libturbojpeg0` (any libjpeg-turbo ≥ 1.4 has this API). */
export const TURBOJPEG_LIBRARY = "libturbojpeg.so.0";

const TJPF_RGB = 0;

interface TurboJpeg {
  version: string;
  /** Decodes at the largest 1/2^n scale that still covers `box` (as the floor does). */
  decode(input: Buffer, box: { width: number; height: number }): Promise<RawImage>;
}

interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The bindings, or why they cannot load (no koffi build for this platform, or no libturbojpeg). */
export function loadTurboJpeg(): TurboJpeg | Error {
  let koffi: typeof Koffi;
  let lib: Koffi.LibraryHandle;
  try {
    koffi = createRequire(import.meta.url)("koffi") as typeof Koffi;
    lib = koffi.load(TURBOJPEG_LIBRARY);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  const init = lib.func("void *tjInitDecompress(void)");
  const destroy = lib.func("int tjDestroy(void *handle)");
  const errorText = lib.func("const char *tjGetErrorStr2(void *handle)");
  const header = lib.func(
    "int tjDecompressHeader3(void *handle, const uint8_t *jpeg, unsigned long size, _Out_ int *width, _Out_ int *height, _Out_ int *subsamp, _Out_ int *colorspace)",
  );
  const decompress = lib.func(
    "int tjDecompress2(void *handle, const uint8_t *jpeg, unsigned long size, uint8_t *dst, int width, int pitch, int height, int pixelFormat, int flags)",
  );

  return {
    version: `koffi ${koffi.version}, ${TURBOJPEG_LIBRARY}`,
    async decode(input, box) {
      // A handle per call: TurboJPEG handles are not shared between threads, and koffi's async
      // calls run on its worker threads so that two images in flight really overlap.
      const handle = init();
      try {
        const w = [0];
        const h = [0];
        if (header(handle, input, input.length, w, h, [0], [0]) !== 0) {
          throw new Error(`TurboJPEG header: ${errorText(handle)}`);
        }
        const fit = Math.min(box.width / w[0]!, box.height / h[0]!);
        let scale = 1;
        while (scale < 8 && 1 / (scale * 2) >= fit) scale *= 2;
        const width = Math.ceil(w[0]! / scale);
        const height = Math.ceil(h[0]! / scale);
        const data = Buffer.allocUnsafe(width * height * 3);
        const status = await new Promise<number>((resolve, reject) =>
          decompress.async(
            handle,
            input,
            input.length,
            data,
            width,
            0,
            height,
            TJPF_RGB,
            0,
            (err: unknown, r: number) => (err ? reject(err) : resolve(r)),
          ),
        );
        if (status !== 0) throw new Error(`TurboJPEG decode: ${errorText(handle)}`);
        return { data, width, height };
      } finally {
        destroy(handle);
      }
    },
  };
}

// The worker's own output settings (packages/worker/src/resize.ts), so only the decoder differs.
const JPEG = {
  quality: DEFAULT_OUTPUT.quality,
  progressive: false,
  chromaSubsampling: "4:2:0",
  optimiseCoding: false,
} as const;

/**
 * EXIF orientation as autoOrient applies it. autoOrient turns, then mirrors; an explicit pipeline
 * mirrors first, so 5 and 7 take the opposite turn (mirror · turn(a) = turn(−a) · mirror).
 */
function oriented(pipeline: Sharp, orientation: number | undefined): Sharp {
  const turn: Record<number, number> = { 3: 180, 4: 180, 5: 270, 6: 90, 7: 90, 8: 270 };
  const rotated = turn[orientation ?? 1] ? pipeline.rotate(turn[orientation ?? 1]) : pipeline;
  return [2, 4, 5, 7].includes(orientation ?? 1) ? rotated.flop() : rotated;
}

/** Both sizes of one original through the decoder swap; sharp reads only the EXIF header itself. */
export function turboHybrid(turbo: TurboJpeg): (input: Buffer) => Promise<Buffer[]> {
  const [large, small] = DEFAULT_OUTPUT.sizes;
  return async (input) => {
    const [{ orientation }, raw] = await Promise.all([sharp(input).metadata(), turbo.decode(input, large!)]);
    const pixels = { raw: { width: raw.width, height: raw.height, channels: 3 as const } };
    const big = await oriented(sharp(raw.data, pixels), orientation)
      .resize(large!.width, large!.height, { fit: "inside", withoutEnlargement: true, kernel: "linear" })
      .jpeg(JPEG)
      .toBuffer();
    const little = await sharp(big, { sequentialRead: true })
      .resize(small!.width, small!.height, { fit: "inside", withoutEnlargement: true })
      .jpeg(JPEG)
      .toBuffer();
    return [big, little];
  };
}

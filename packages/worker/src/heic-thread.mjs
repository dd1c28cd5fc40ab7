/**
 * Worker-thread entry that decodes one HEIC at a time with libheif compiled to WebAssembly
 * (libheif-js). A WebAssembly call cannot be interrupted from outside, so it runs here, where the
 * main thread can terminate it at the image's deadline (decode-heic.ts) without stopping the process.
 *
 * Plain JavaScript, not TypeScript: Node starts a worker thread from a file it can run as it is, and
 * this one must run beside the TypeScript sources (tests), the compiled dist/ and the Lambda bundle.
 *
 * Each request answers with an uncompressed TIFF of the primary image, 8 bits per sample, already
 * rotated and mirrored by libheif (irot/imir), carrying the image's colour profile. TIFF, not raw
 * pixels: sharp has no way to give raw input a colour profile, and libvips reads a TIFF's ICC tag,
 * so the rest of the pipeline converts Display P3 (or any profile) to sRGB as it does for JPEG.
 */
import { parentPort } from "node:worker_threads";
import libheif from "libheif-js/wasm-bundle.js";

/** libheif's colour-profile types (big-endian fourcc). */
const PROFILE_TYPES = { nclx: 0x6e636c78, prof: 0x70726f66, rICC: 0x72494343 };
/** nclx colour primaries for Display P3 (SMPTE EG 432-1), which sharp ships an ICC profile for. */
const P3_PRIMARIES = 12;

parentPort.on("message", async (request) => {
  try {
    const tiff = await decode(request);
    parentPort.postMessage({ ok: true, tiff, heapBytes: libheif.HEAPU8.length }, [tiff.buffer]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const tooLarge = error instanceof Error && error.name === "TooLarge";
    // An abort (out of memory, a trap) leaves the module unusable: the main thread ends this thread.
    const fatal = error instanceof WebAssembly.RuntimeError || /Aborted/.test(message);
    parentPort.postMessage({ ok: false, message, tooLarge, fatal, heapBytes: libheif.HEAPU8?.length ?? 0 });
  }
});

/**
 * @param {{ input: Uint8Array, maxPixels: number, p3Icc: Uint8Array }} request
 * @returns {Promise<Uint8Array>}
 */
async function decode({ input, maxPixels, p3Icc }) {
  const context = libheif.heif_context_alloc();
  let handle;
  let image;
  try {
    const read = libheif.heif_context_read_from_memory(context, input);
    if (read.code !== libheif.heif_error_code.heif_error_Ok) throw new Error(`libheif: ${read.message}`);
    handle = libheif.heif_js_context_get_primary_image_handle(context);
    if (!handle || handle.code) throw new Error(`libheif: ${handle?.message ?? "no primary image"}`);
    const width = libheif.heif_image_handle_get_width(handle);
    const height = libheif.heif_image_handle_get_height(handle);
    if (width * height > maxPixels) {
      throw Object.assign(new Error(`${width}×${height}`), { name: "TooLarge" });
    }
    const alpha = libheif.heif_image_handle_has_alpha_channel(handle) === 1;
    const chroma = alpha
      ? libheif.heif_chroma.heif_chroma_interleaved_RGBA
      : libheif.heif_chroma.heif_chroma_interleaved_RGB;
    image = await libheif.heif_js_decode_image2(handle, libheif.heif_colorspace.heif_colorspace_RGB, chroma);
    if (!image || image.code)
      throw new Error(`libheif: ${image?.message ?? "the image could not be decoded"}`);
    const plane = image.channels.find((c) => c.id === libheif.heif_channel.heif_channel_interleaved);
    if (!plane) throw new Error("libheif: the decoded image has no interleaved RGB plane");
    if (plane.width !== width || plane.height !== height) {
      throw new Error(
        `libheif: the header says ${width}×${height}, the coded image is ${plane.width}×${plane.height}`,
      );
    }
    const icc = colourProfile(handlePointer(handle), p3Icc);
    const channels = alpha ? 4 : 3;
    const { tiff, pixelsAt } = tiffFrame(width, height, channels, icc);
    const row = width * channels;
    for (let y = 0; y < height; y++) {
      tiff.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), pixelsAt + y * row);
    }
    return tiff;
  } finally {
    if (image?.image) libheif.heif_image_release(image.image);
    if (handle && !handle.code) libheif.heif_image_handle_release(handle);
    libheif.heif_context_free(context);
  }
}

/** The C pointer behind an embind handle: the colour-profile calls are only exported as C functions. */
function handlePointer(handle) {
  const pointer = handle?.$$?.ptr;
  return typeof pointer === "number" ? pointer : undefined;
}

/**
 * The ICC profile that describes the decoded RGB: the embedded one ('prof'/'rICC'), Display P3's for
 * an nclx box with P3 primaries, none for sRGB primaries. libheif has already applied the nclx
 * matrix (YCbCr to RGB); its transfer curve is sRGB's or BT.709's for SDR photos, close enough to pass.
 * Other primaries (BT.2020, rare in photos) and an unreadable profile are passed on as sRGB.
 */
function colourProfile(pointer, p3Icc) {
  if (pointer === undefined) return undefined;
  const type = libheif._heif_image_handle_get_color_profile_type(pointer) >>> 0;
  if (type === PROFILE_TYPES.prof || type === PROFILE_TYPES.rICC) {
    const size = libheif._heif_image_handle_get_raw_color_profile_size(pointer);
    const scratch = libheif._malloc(size + 16);
    try {
      // heif_error is returned through a hidden first argument (the WebAssembly C ABI for structs).
      libheif._heif_image_handle_get_raw_color_profile(scratch, pointer, scratch + 16);
      if (libheif.HEAP32[scratch >> 2] !== 0) return undefined;
      return libheif.HEAPU8.slice(scratch + 16, scratch + 16 + size);
    } finally {
      libheif._free(scratch);
    }
  }
  if (type !== PROFILE_TYPES.nclx) return undefined;
  const scratch = libheif._malloc(16);
  try {
    libheif._heif_image_handle_get_nclx_color_profile(scratch, pointer, scratch + 12);
    const nclx = libheif.HEAPU32[(scratch + 12) >> 2];
    if (libheif.HEAP32[scratch >> 2] !== 0 || nclx === 0) return undefined;
    // struct heif_color_profile_nclx: uint8 version, then 32-bit enums primaries, transfer, matrix.
    const primaries = libheif.HEAP32[(nclx >> 2) + 1];
    libheif._heif_nclx_color_profile_free(nclx);
    return primaries === P3_PRIMARIES ? p3Icc : undefined;
  } finally {
    libheif._free(scratch);
  }
}

/** TIFF tag types: SHORT, LONG, UNDEFINED. */
const [SHORT, LONG, UNDEFINED] = [3, 4, 7];
/** Rows per strip: small strips let libvips read the image top to bottom without one large read. */
const ROWS_PER_STRIP = 16;

/**
 * A little-endian baseline TIFF (one IFD, uncompressed RGB or RGBA strips, optional ICC profile tag)
 * with room for the pixels, which the caller writes from `pixelsAt` on.
 */
function tiffFrame(width, height, channels, icc) {
  const strips = Math.ceil(height / ROWS_PER_STRIP);
  const stripBytes = ROWS_PER_STRIP * width * channels;
  /** @type {Array<[number, number, number, number | number[] | Uint8Array]>} tag, type, count, value */
  const tags = [
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, channels, new Array(channels).fill(8)],
    [259, SHORT, 1, 1], // no compression
    [262, SHORT, 1, 2], // RGB
    [273, LONG, strips, []], // strip offsets, filled in below
    [277, SHORT, 1, channels],
    [278, LONG, 1, ROWS_PER_STRIP],
    [
      279,
      LONG,
      strips,
      Array.from({ length: strips }, (_, i) =>
        Math.min(stripBytes, (height - i * ROWS_PER_STRIP) * width * channels),
      ),
    ],
    [284, SHORT, 1, 1], // interleaved
  ];
  if (channels === 4) tags.push([338, SHORT, 1, 2]); // unassociated alpha
  if (icc) tags.push([34675, UNDEFINED, icc.length, icc]);
  const sizes = { [SHORT]: 2, [LONG]: 4, [UNDEFINED]: 1 };
  const ifdBytes = 2 + tags.length * 12 + 4;
  let extra = 8 + ifdBytes;
  const placed = tags.map(([, type, count]) => {
    const bytes = sizes[type] * count;
    if (bytes <= 4) return undefined;
    const at = extra;
    extra += bytes + (bytes % 2);
    return at;
  });
  const pixelsAt = extra;
  const stripOffsets = Array.from({ length: strips }, (_, i) => pixelsAt + i * stripBytes);
  tags[5][3] = stripOffsets;
  const tiff = new Uint8Array(pixelsAt + width * height * channels);
  const view = new DataView(tiff.buffer);
  tiff.set([0x49, 0x49, 42, 0], 0);
  view.setUint32(4, 8, true);
  view.setUint16(8, tags.length, true);
  tags.forEach(([tag, type, count, value], i) => {
    const entry = 10 + i * 12;
    view.setUint16(entry, tag, true);
    view.setUint16(entry + 2, type, true);
    view.setUint32(entry + 4, count, true);
    const at = placed[i] ?? entry + 8;
    if (placed[i] !== undefined) view.setUint32(entry + 8, at, true);
    const values = typeof value === "number" ? [value] : value;
    if (type === UNDEFINED) tiff.set(values, at);
    else {
      for (const [k, v] of values.entries()) {
        if (type === SHORT) view.setUint16(at + k * 2, v, true);
        else view.setUint32(at + k * 4, v, true);
      }
    }
  });
  return { tiff, pixelsAt };
}

import { DEFAULT_OUTPUT, type ImageFailure } from "@thumbs/core";
import sharp from "sharp";
import { describe, expect, it, vi } from "vitest";
import { HEIF_TOOLS_MISSING, heifEnc, withIspe } from "./helpers/heif.js";

describe.skipIf(HEIF_TOOLS_MISSING)("HEIC decodes within the worker's memory", () => {
  it("refuses, from its header, a HEIC whose decode would not fit in a small worker's memory", async () => {
    // Prepare: a 512 MB worker (decode-heic.ts reads its budget when loaded) and a HEIC whose header
    // declares 8000×6000 pixels, within MAX_INPUT_PIXELS but about 550 MB to decode.
    vi.stubEnv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
    const { heicAsTiff } = await import("../src/decode-heic.js");
    const source = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#468" } })
      .png()
      .toBuffer();
    const large = withIspe(await heifEnc([source]), 8000, 6000);

    // Act
    const failure: ImageFailure = await heicAsTiff(large, {
      maxInputPixels: 100_000_000,
      timeoutSeconds: 30,
    }).then(
      () => {
        throw new Error("expected a failure");
      },
      (error: ImageFailure) => error,
    );

    // Assess
    expect(failure.failureClass).toBe("TooLarge");
    expect(failure.message).toMatch(/8000×6000 HEIC \(48\.0 MP\) needs about 5\d\d MB, over the 128 MB/);
    expect(failure.message).toMatch(/workerMemoryMb/);
    vi.unstubAllEnvs();
  }, 60_000);

  it("gives the memory back after each image, made or failed, so the next one can start", async () => {
    // Prepare: a 512 MB worker has 128 MB for HEIC decoding; each of these needs more than half of it
    // (5.8 MP: ~67 MB), so one whose memory was kept would leave the next waiting for ever.
    vi.stubEnv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
    const { makeThumbnails } = await import("../src/resize.js");
    const source = await sharp({ create: { width: 2900, height: 2000, channels: 3, background: "#468" } })
      .png()
      .toBuffer();
    const heic = await heifEnc([source], ["-q", "50"]);
    const lying = withIspe(heic, 3000, 2000);
    const limits = { maxInputPixels: 100_000_000, timeoutSeconds: 60 };

    // Act: one after the other, failures between.
    const outcomes: string[] = [];
    for (const input of [heic, lying, heic, lying, heic]) {
      outcomes.push(
        await makeThumbnails(input, DEFAULT_OUTPUT, limits).then(
          (thumbnails) => `${thumbnails[0]!.width}x${thumbnails[0]!.height}`,
          (error: ImageFailure) => error.failureClass,
        ),
      );
    }

    // Assess
    expect(outcomes).toEqual(["1024x706", "Corrupt", "1024x706", "Corrupt", "1024x706"]);
    vi.unstubAllEnvs();
  }, 120_000);
});

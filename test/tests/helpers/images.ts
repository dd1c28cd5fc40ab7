import sharp from "sharp";

/** Width and height as a viewer shows them (EXIF orientation applied). */
export async function displayedSize(data: Buffer | Uint8Array): Promise<{ width: number; height: number }> {
  const m = await sharp(data).metadata();
  const swapped = (m.orientation ?? 1) >= 5;
  return swapped ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
}

/** Mean colour of an image region, for checking what a thumbnail shows without comparing bytes. */
export async function meanColour(
  data: Buffer | Uint8Array,
  region?: { left: number; top: number; width: number; height: number },
): Promise<[number, number, number]> {
  // stats() reads the input, not the pipeline: materialise the region first.
  const input = region ? await sharp(data).extract(region).png().toBuffer() : data;
  const { channels } = await sharp(input).stats();
  return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean];
}

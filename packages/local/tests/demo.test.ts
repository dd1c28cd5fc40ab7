import { mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runDemo } from "../src/demo.js";
import { samplePhotos } from "../src/sample-images.js";
import { uniqueOrderId } from "./helpers/stack.js";

describe("the demo", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it("runs the order without a file it cannot upload, and names that file and what to do", async () => {
    // Prepare: a folder of two photos and a link to a photo that is gone.
    const input = await mkdtemp(join(tmpdir(), "thumbs-demo-in-"));
    const output = await mkdtemp(join(tmpdir(), "thumbs-demo-out-"));
    dirs.push(input, output);
    for (const photo of await samplePhotos(2, { seed: "demo-input", megapixels: 0.1 }))
      await writeFile(join(input, photo.name), photo.data);
    await symlink(join(input, "gone", "IMG_0001.JPG"), join(input, "IMG_0001.JPG"));
    const printed: string[] = [];
    const orderId = uniqueOrderId("demo");

    // Act
    const result = await runDemo(
      {
        input,
        images: 0,
        megapixels: 2,
        broken: false,
        listing: "prefix",
        workers: 1,
        output,
        cacheDir: join(output, "cache"),
        orderId,
        progress: false,
      },
      (line) => printed.push(line),
    );

    // Assess: the two photos made four thumbnails; the missing file is named, with the reason.
    expect(result.progress).toMatchObject({ total: 2, done: 2, failed: 0, complete: true });
    expect(result.uploadFailures).toEqual([
      expect.objectContaining({ name: "IMG_0001.JPG", key: `orders/${orderId}/IMG_0001.JPG` }),
    ]);
    expect(result.uploadFailures[0]!.message).toMatch(
      /^Could not read "IMG_0001\.JPG" at .*IMG_0001\.JPG \(ENOENT\): check that the file exists and is readable/,
    );
    expect(printed).toContain("Could not upload 1 of 3 files; the order runs without them:");
    const sizes = await readdir(join(output, orderId));
    expect(sizes.sort()).toEqual(["large", "small"]);
    for (const size of sizes) expect(await readdir(join(output, orderId, size))).toHaveLength(2);
  });
});

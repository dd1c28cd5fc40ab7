import { describe, expect, it } from "vitest";
import { isOrderObject, readableStem, thumbnailKey } from "../src/keys.js";

const key = (sourceKey: string, size = "small") =>
  thumbnailKey({ prefix: "thumbs/", orderId: "order-1", size, sourceKey, format: "jpeg" });

describe("thumbnailKey", () => {
  it("is deterministic, so a retry overwrites instead of adding", () => {
    // Act + Assess
    expect(key("orders/1/IMG_0001.HEIC")).toBe(key("orders/1/IMG_0001.HEIC"));
    expect(key("orders/1/IMG_0001.HEIC")).toMatch(/^thumbs\/order-1\/small\/IMG_0001-[0-9a-f]{16}\.jpg$/);
  });

  it("keeps different sources apart even when their readable names collide", () => {
    // Act + Assess: the same file name in two folders, then one source in two sizes.
    expect(key("a/photo.jpg")).not.toBe(key("b/photo.jpg"));
    expect(key("a/photo.jpg", "large")).not.toBe(key("a/photo.jpg", "small"));
  });

  it.each([
    ["spaces", "orders/1/my holiday photo.jpg", /my_holiday_photo-/],
    ["unicode", "orders/1/日本の写真 ünïcode.jpg", /\/small\/[A-Za-z0-9._-]*-[0-9a-f]{16}\.jpg$/],
    ["dot-dot", "orders/1/../../etc/passwd", /\/small\/passwd-/],
    ["only dots", "orders/1/...", /\/small\/image-/],
    ["1,000 characters", `orders/1/${"x".repeat(990)}.jpg`, /^.{1,200}$/],
  ])("stays a safe, bounded key for odd sources (%s)", (_, source, pattern) => {
    // Act
    const k = key(source);

    // Assess
    expect(k).toMatch(pattern);
    expect(k).not.toContain("..");
    expect(Buffer.byteLength(k)).toBeLessThan(200);
  });

  it("names the stem after the file, not its folders", () => {
    expect(readableStem("a/b/c.d.jpg")).toBe("c.d");
  });

  it("drops accents instead of splitting letters, whichever Unicode form the key is in", () => {
    // Prepare: the same names composed (NFC, most systems) and decomposed (NFD, macOS file names).
    const names = ["Été à Nice 03.png", "Mañana en la playa (1).WEBP", "Škoda Ærø.jpg"];

    // Act
    const stems = names.flatMap((name) => [name.normalize("NFC"), name.normalize("NFD")].map(readableStem));

    // Assess
    expect(stems).toEqual([
      "Ete_a_Nice_03",
      "Ete_a_Nice_03",
      "Manana_en_la_playa_1",
      "Manana_en_la_playa_1",
      "Skoda_r",
      "Skoda_r",
    ]);
  });
});

describe("isOrderObject", () => {
  it("skips folder markers only", () => {
    // Act + Assess
    expect(isOrderObject("orders/1/")).toBe(false);
    expect(isOrderObject("orders/1/a.jpg")).toBe(true);
    expect(isOrderObject("orders/1/notes.txt")).toBe(true);
  });
});

import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { describe, expect, it } from "vitest";
import { presignGetUrls, presignStats } from "../src/presign.js";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "example-secret",
  sessionToken: "session",
};
const KEYS = [
  "A-1001/small/orders/A-1001/IMG_0001.jpg",
  "A-1001/small/orders/A-1001/DSC 0002 (copy)!.jpg",
  "A-1001/small/orders/A-1001/naïve café*'~.jpg",
  "A-1001/small/orders/A-1001/a+b=c&d;e,f@g$h.jpg",
  "A-1001/small/orders/A-1001/deep/er/key.webp",
];

describe("presigned thumbnail URLs", () => {
  it.each([
    ["virtual-hosted (AWS)", new S3Client({ region: "eu-west-1", credentials })],
    [
      "path-style, custom endpoint (the local emulator)",
      new S3Client({
        region: "us-east-1",
        credentials,
        endpoint: "http://127.0.0.1:4566",
        forcePathStyle: true,
      }),
    ],
  ])("match getSignedUrl exactly, %s, with no checksum parameters", async (_, s3) => {
    // Prepare: the reference, one getSignedUrl per key on a client without flexible checksums.
    const signingDate = new Date("2026-01-02T03:04:05Z");
    const plain = new S3Client({
      region: s3.config.region,
      credentials,
      forcePathStyle: s3.config.forcePathStyle,
      ...(s3.config.isCustomEndpoint ? { endpoint: s3.config.endpoint } : {}),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    const expected = await Promise.all(
      KEYS.map((Key) =>
        getSignedUrl(plain, new GetObjectCommand({ Bucket: "thumbs-thumbs", Key }), {
          expiresIn: 600,
          signingDate,
        }),
      ),
    );

    // Act
    const before = presignStats.viaSdk;
    const urls = await presignGetUrls(s3, "thumbs-thumbs", KEYS, { expiresIn: 600, signingDate });

    // Assess: identical URLs, and only the first went through the SDK's middleware stack.
    expect(urls).toEqual(expected);
    expect(presignStats.viaSdk - before).toBe(1);
    for (const url of urls) {
      const params = new URL(url).searchParams;
      expect(params.get("X-Amz-Expires")).toBe("600");
      expect(params.get("X-Amz-SignedHeaders")).toBe("host");
      expect([...params.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    }
  });
});

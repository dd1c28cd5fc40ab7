import { describe, expect, it } from "vitest";
import { loadApiConfig } from "../src/config.js";
import { presignThumbnails } from "../src/thumbnails.js";

const env = {
  REDIS_URL: "redis://127.0.0.1:6379",
  SLICE_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:slices",
  THUMBNAIL_BUCKET: "thumbs",
};

describe("the admin API's thumbnail settings", () => {
  it("default to a 20 s on-demand deadline and 10-minute presigned URLs", () => {
    expect(loadApiConfig(env)).toMatchObject({ onDemandTimeoutSeconds: 20, thumbnailUrlSeconds: 600 });
  });

  it("refuse an on-demand deadline that would not leave the function time to answer API Gateway", () => {
    // Act + Assess: the longest accepted, then one second more.
    expect(loadApiConfig({ ...env, ON_DEMAND_TIMEOUT_SECONDS: "25" }).onDemandTimeoutSeconds).toBe(25);
    expect(() => loadApiConfig({ ...env, ON_DEMAND_TIMEOUT_SECONDS: "26" })).toThrow(
      /ON_DEMAND_TIMEOUT_SECONDS/,
    );
  });

  it("list no presigned URLs when THUMBNAIL_URL_SECONDS is 0", async () => {
    // Prepare
    const config = loadApiConfig({ ...env, THUMBNAIL_URL_SECONDS: "0" });

    // Act + Assess
    expect(await presignThumbnails({ s3: {} as never, config } as never, ["a/small/b.jpg"])).toBeNull();
  });
});

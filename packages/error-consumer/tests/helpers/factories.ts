import type { AdminDeps } from "../../src/deps.js";

/** An admin API configuration for unit tests: small limits, a fake topic, overridable per test. */
export const testConfig = (overrides: Partial<AdminDeps["config"]> = {}): AdminDeps["config"] => ({
  apiToken: undefined,
  sliceTopicArn: "arn:aws:sns:us-east-1:000000000000:slices",
  sliceSize: 25,
  thumbnailBucket: "thumbs",
  thumbnailPrefix: "",
  maxInputBytes: 1e6,
  maxInputPixels: 1e6,
  imageTimeoutSeconds: 5,
  ...overrides,
});

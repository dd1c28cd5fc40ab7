import { describe, expect, it } from "vitest";
import { classifyDecodeError, classifyS3Error, ImageFailure, sanitizeMessage } from "../src/failure.js";

const s3Error = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

describe("classifyS3Error", () => {
  it.each([
    [s3Error("NoSuchKey", 404), "read", "NotFound"],
    [s3Error("AccessDenied", 403), "read", "AccessDenied"],
    [s3Error("SlowDown", 503), "read", "Transient"],
    [s3Error("InternalError", 500), "write", "Transient"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "read", "Transient"],
    [s3Error("TimeoutError"), "write", "Transient"],
    [s3Error("InvalidArgument", 400), "write", "Internal"],
  ] as const)("maps %s on %s to %s", (error, action, expected) => {
    expect(classifyS3Error(error, action).failureClass).toBe(expected);
  });

  it("passes an already classified failure through", () => {
    const f = new ImageFailure("TooLarge", "big");
    expect(classifyS3Error(f, "read")).toBe(f);
  });
});

describe("classifyDecodeError", () => {
  it.each([
    ["Input image exceeds pixel limit", "TooLarge"],
    ["timeout: 10% complete", "TooLarge"],
    ["Input buffer contains unsupported image format", "Unsupported"],
    ["heifload_buffer: Unsupported feature: Unsupported codec", "Unsupported"],
    ["VipsJpeg: Premature end of input file", "Corrupt"],
    ["pngload_buffer: libpng read error", "Corrupt"],
    ["something nobody has seen", "Corrupt"],
  ])("maps libvips' %j to %s", (message, expected) => {
    const failure = classifyDecodeError(new Error(message));
    expect(failure.failureClass).toBe(expected);
    expect(failure.cause).toBeInstanceOf(Error);
  });
});

describe("sanitizeMessage", () => {
  it("keeps one line and strips paths, credentials and stack frames", () => {
    const raw =
      "Could not open /var/task/node_modules/sharp/lib/x.node with rediss://user:pa55@host:6379 password=hunter2 AKIAABCDEFGHIJKLMNOP\n    at foo (/home/x.js:1:1)";
    const clean = sanitizeMessage(raw);
    expect(clean).not.toMatch(/\/var\/task|pa55|hunter2|AKIA|\n|at foo/);
    expect(clean).toContain("<path>");
    expect(clean).toContain("rediss://<redacted>@host");
  });

  it("bounds the length", () => {
    expect(sanitizeMessage("x".repeat(2000)).length).toBe(500);
  });
});

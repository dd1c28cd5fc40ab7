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
    // undici's timeouts, from the worker's own S3 requests: a body that stalls is retried, not failed.
    [Object.assign(new Error("Body Timeout Error"), { code: "UND_ERR_BODY_TIMEOUT" }), "read", "Transient"],
    [
      Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" }),
      "write",
      "Transient",
    ],
    [
      Object.assign(new Error("Connect Timeout Error"), { code: "UND_ERR_CONNECT_TIMEOUT" }),
      "read",
      "Transient",
    ],
    [s3Error("InvalidArgument", 400), "write", "Internal"],
  ] as const)("maps %s on %s to %s", (error, action, expected) => {
    expect(classifyS3Error(error, action).failureClass).toBe(expected);
  });

  it("passes an already classified failure through", () => {
    // Prepare
    const f = new ImageFailure("TooLarge", "big");

    // Act + Assess
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
    // Act
    const failure = classifyDecodeError(new Error(message));

    // Assess
    expect(failure.failureClass).toBe(expected);
    expect(failure.cause).toBeInstanceOf(Error);
  });
});

describe("classifyDecodeError on what sharp really reports", () => {
  // Verbatim from sharp 0.35 / libvips 8.18: libvips logs libheif's probing seeks before the real reason.
  const seeks = (...at: number[]) => at.map((n) => `source: bad seek to ${n}`).join("\n");
  const truncatedAvif = `${seeks(1024, 512, 384, 302)}\nheif: Invalid input: Unexpected end of file: Extent in iloc box references data outside of file bounds (points to file position 250)\n (2.100)`;
  const avifTimeout = `${seeks(10039859, 10039839)}\ntimeout: 3% complete\nVipsImage: killed for image "temp-30"`;

  it("files a truncated AVIF as Corrupt and shows libheif's reason, not the probe noise", () => {
    for (const message of [truncatedAvif, `Input buffer has corrupt header: ${truncatedAvif}`]) {
      const failure = classifyDecodeError(new Error(message));
      expect(failure.failureClass).toBe("Corrupt");
      expect(failure.message).toMatch(/heif: Invalid input: Unexpected end of file/);
      expect(failure.message).not.toMatch(/bad seek/);
    }
  });

  it("files libheif's 'Invalid input' as Corrupt even without the noise (it used to be Unsupported)", () => {
    // Act
    const failure = classifyDecodeError(new Error("heif: Invalid input: No 'meta' box (2.104)"));

    // Assess
    expect(failure.failureClass).toBe("Corrupt");
  });

  it("files an AVIF that ran out of time as TooLarge (the seeks used to make it Corrupt)", () => {
    // Act
    const failure = classifyDecodeError(new Error(avifTimeout));

    // Assess
    expect(failure.failureClass).toBe("TooLarge");
    expect(failure.message).toMatch(/time limit \(timeout: 3% complete\)/);
  });

  describe("with the decode's timing (libvips' error buffer is shared by concurrent decodes)", () => {
    it("ignores another image's timeout line when this decode failed fast", () => {
      // Act
      const failure = classifyDecodeError(new Error("timeout: 3% complete"), {
        elapsedMs: 40,
        timeoutSeconds: 10,
      });

      // Assess
      expect(failure.failureClass).toBe("Corrupt");
      expect(failure.message).toBe("The image could not be decoded (Unknown error).");
    });

    it("calls a decode that ran past the limit and lost its message a timeout", () => {
      // Prepare
      const timing = { elapsedMs: 10_020, timeoutSeconds: 10 };

      // Act + Assess
      expect(classifyDecodeError(new Error("Unknown error"), timing).failureClass).toBe("TooLarge");
      expect(classifyDecodeError(new Error(avifTimeout), timing).failureClass).toBe("TooLarge");
    });

    it("still trusts a real reason, however long the decode took", () => {
      // Prepare
      const timing = { elapsedMs: 12_000, timeoutSeconds: 10 };

      // Act + Assess
      expect(
        classifyDecodeError(new Error("VipsJpeg: premature end of JPEG image"), timing).failureClass,
      ).toBe("Corrupt");
    });

    it("takes the message at its word without timing", () => {
      // Act + Assess
      expect(classifyDecodeError(new Error("Unknown error")).failureClass).toBe("Corrupt");
      expect(classifyDecodeError(new Error("timeout: 3% complete")).failureClass).toBe("TooLarge");
    });
  });
});

describe("sanitizeMessage", () => {
  it("keeps one line and strips paths, credentials and stack frames", () => {
    // Prepare
    const raw =
      "Could not open /var/task/node_modules/sharp/lib/x.node with rediss://user:pa55@host:6379 password=hunter2 AKIAABCDEFGHIJKLMNOP\n    at foo (/home/x.js:1:1)";

    // Act
    const clean = sanitizeMessage(raw);

    // Assess
    expect(clean).not.toMatch(/\/var\/task|pa55|hunter2|AKIA|\n|at foo/);
    expect(clean).toContain("<path>");
    expect(clean).toContain("rediss://<redacted>@host");
  });

  it("bounds the length", () => {
    expect(sanitizeMessage("x".repeat(2000)).length).toBe(500);
  });
});

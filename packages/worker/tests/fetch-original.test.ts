import { Readable } from "node:stream";
import type { ImageFailure } from "@thumbs/core";
import { describe, expect, it } from "vitest";
import { fetchOriginal } from "../src/fetch-original.js";
import { InputBuffers } from "../src/input-buffers.js";
import type { S3Objects } from "../src/s3-objects.js";

/** A stand-in answering a GET with the given chunks (s3-objects.test.ts and the integration suites send real requests). */
const s3With = (
  chunks: Buffer[],
  contentLength: number | undefined,
  failWith?: Error,
  body: () => Readable = () => Readable.from(chunks),
): S3Objects =>
  ({
    get: async () => {
      if (failWith) throw failWith;
      return { body: body(), contentLength };
    },
  }) as unknown as S3Objects;

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: ImageFailure) => error,
  );

describe("fetchOriginal", () => {
  const chunks = [Buffer.from("abc"), Buffer.from("defg"), Buffer.from("h")];

  it("assembles the chunks into one buffer of the declared length", async () => {
    expect((await fetchOriginal(s3With(chunks, 8), "b", "k", 100)).toString()).toBe("abcdefgh");
  });

  it("reads a body without a declared length", async () => {
    expect((await fetchOriginal(s3With(chunks, undefined), "b", "k", 100)).toString()).toBe("abcdefgh");
  });

  it("refuses an original over the limit from its Content-Length, before reading it", async () => {
    const failure = await failureOf(fetchOriginal(s3With(chunks, 8), "b", "k", 5));
    expect(failure.failureClass).toBe("TooLarge");
    expect(failure.message).toMatch(/MAX_INPUT_BYTES/);
  });

  it("stops reading a body without a length once it passes the limit", async () => {
    const failure = await failureOf(fetchOriginal(s3With(chunks, undefined), "b", "k", 5));
    expect(failure).toMatchObject({ failureClass: "TooLarge" });
    expect(failure.message).toMatch(/at least/);
  });

  it.each([
    ["short", 10, /after 8 of 10 bytes/],
    ["long", 6, /more than the 6 bytes/],
  ])("treats a %s body as Transient", async (_, declared, message) => {
    const failure = await failureOf(fetchOriginal(s3With(chunks, declared), "b", "k", 100));
    expect(failure.failureClass).toBe("Transient");
    expect(failure.message).toMatch(message);
  });

  it("classifies a missing object as NotFound", async () => {
    // Prepare
    const missing = Object.assign(new Error("NoSuchKey"), {
      name: "NoSuchKey",
      $metadata: { httpStatusCode: 404 },
    });

    // Act
    const failure = await failureOf(fetchOriginal(s3With([], 0, missing), "b", "k", 100));

    // Assess
    expect(failure.failureClass).toBe("NotFound");
  });

  it("reads into a buffer from the pool, and gives it back when the body fails", async () => {
    // Prepare
    const buffers = new InputBuffers(2);
    const held = buffers.take(8);
    buffers.give(held);

    // Act
    const read = await fetchOriginal(s3With(chunks, 8), "b", "k", 100, undefined, buffers);
    const failure = await failureOf(fetchOriginal(s3With(chunks, 10), "b", "k", 100, undefined, buffers));
    const next = buffers.take(8);

    // Assess
    expect(read.toString()).toBe("abcdefgh");
    expect(read.buffer).toBe(held.buffer);
    expect(failure.failureClass).toBe("Transient");
    expect(next.buffer).not.toBe(held.buffer);
    expect(buffers.take(8).buffer).not.toBe(next.buffer);
  });

  it("treats a connection closed mid-body as Transient", async () => {
    // Prepare: a stream that delivers one chunk and is then destroyed without an error.
    const cut = () => {
      const stream = new Readable({ read() {} });
      stream.push(Buffer.from("abc"));
      setImmediate(() => stream.destroy());
      return stream;
    };

    // Act
    const failure = await failureOf(fetchOriginal(s3With([], 8, undefined, cut), "b", "k", 100));

    // Assess
    expect(failure.failureClass).toBe("Transient");
    expect(failure.message).toMatch(/closed the connection mid-body/);
  });
});

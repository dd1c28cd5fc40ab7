import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { classifyS3Error } from "@thumbs/core";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { S3Objects } from "../src/s3-objects.js";
import { CREDENTIALS, s3Error, signatureHolds, startS3StandIn } from "./helpers/s3-stand-in.js";

/**
 * S3Objects sends the worker's GETs and PUTs without the SDK's middleware, so these tests hold it to
 * what the SDK itself sends, on a loopback stand-in for S3 that records every request: the same path
 * for any key a customer can upload, a signature that verifies as S3 verifies it, and the SDK's own
 * retry behaviour. (The pipeline's integration suites run it against fauxqs, which checks no signature.)
 */
describe("S3Objects", () => {
  let standIn: Awaited<ReturnType<typeof startS3StandIn>>;
  let sdk: S3Client;
  let objects: S3Objects;

  beforeAll(async () => {
    standIn = await startS3StandIn();
    const config = {
      endpoint: standIn.endpoint,
      region: "us-east-1",
      credentials: CREDENTIALS,
      forcePathStyle: true,
      maxAttempts: 3,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    } as const;
    sdk = new S3Client(config);
    objects = new S3Objects(new S3Client(config), { connections: 4 });
  });
  afterEach(() => {
    standIn.seen.length = 0;
    standIn.answerWith((_, res) => res.end());
  });
  afterAll(async () => {
    await objects.close();
    objects.client.destroy();
    sdk.destroy();
    await standIn.close();
  });

  // Keys as customers name photos: camera names, spaces, accents in both Unicode forms, emoji, and every
  // character S3 allows that URL encoding treats specially.
  const characters = [..."aZ09_ .,'()!*&$@=;:+?#%[]{}^`~|<>\"-éßü📷", "e\u0301"];
  const segment = fc.string({ unit: fc.constantFrom(...characters), minLength: 1, maxLength: 12 });
  const keys = fc.oneof(
    fc.constantFrom(
      "orders/A-1/IMG_0001.JPG",
      "orders/A-1/Été à Nice 44.png",
      "a+b/c%20d/e?f#g.jpg",
      "orders/../../etc/passwd",
      "./a/.//b/./c.jpg",
    ),
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/")),
  );

  it("requests the path the SDK requests for the same key, signed as S3 verifies it", async () => {
    await fc.assert(
      fc.asyncProperty(keys, async (key) => {
        // Prepare
        standIn.seen.length = 0;

        // Act: the SDK's GetObject, then ours.
        const bySdkResponse = await sdk.send(new GetObjectCommand({ Bucket: "originals", Key: key }));
        await bySdkResponse.Body?.transformToByteArray();
        const ours = await objects.get("originals", key);
        await ours.body.dump();

        // Assess: same path (the SDK adds only its x-id query), both signatures verify.
        const [bySdk, byUs] = standIn.seen;
        expect(byUs!.url).toBe(bySdk!.url.split("?")[0]);
        expect(await signatureHolds(bySdk!)).toBe(true);
        expect(await signatureHolds(byUs!)).toBe(true);
      }),
      { numRuns: 50 },
    );
  }, 60_000);

  it("puts a thumbnail as the SDK's PutObject does, with a payload hash S3 checks", async () => {
    // Prepare
    const key = "thumbs/A-1/large/Été à Nice 44.jpg";
    const body = Buffer.from("thumbnail bytes");

    // Act
    await sdk.send(
      new PutObjectCommand({
        Bucket: "thumbnails",
        Key: key,
        Body: body,
        ContentType: "image/jpeg",
        CacheControl: "public, max-age=86400",
        Metadata: { "order-id": "A-1", width: "1024" },
      }),
    );
    await objects.put("thumbnails", key, body, {
      contentType: "image/jpeg",
      cacheControl: "public, max-age=86400",
      metadata: { "order-id": "A-1", width: "1024" },
    });

    // Assess: same target, headers and bytes; our signed payload hash is the body's.
    const [bySdk, byUs] = standIn.seen;
    expect(byUs!.url).toBe(bySdk!.url.split("?")[0]);
    for (const name of ["content-type", "cache-control", "x-amz-meta-order-id", "x-amz-meta-width"]) {
      expect(byUs!.headers[name]).toBe(bySdk!.headers[name]);
    }
    expect(byUs!.body.equals(body)).toBe(true);
    expect(await signatureHolds(byUs!)).toBe(true);
    expect(await signatureHolds({ ...byUs!, body: Buffer.from("thumbnail bytez") })).toBe(false);
  });

  it("gives S3's error code and status to the classifier", async () => {
    // Prepare
    standIn.answerWith((seen, res) =>
      seen.url.includes("missing")
        ? s3Error(res, 404, "NoSuchKey", "The specified key does not exist.")
        : s3Error(res, 403, "AccessDenied", "Access Denied"),
    );

    // Act
    const notFound = await objects.get("originals", "missing.jpg").catch((e: unknown) => e);
    const denied = await objects
      .put("thumbnails", "t.jpg", Buffer.from("x"), {
        contentType: "image/jpeg",
        cacheControl: "no-cache",
        metadata: {},
      })
      .catch((e: unknown) => e);

    // Assess: not retried, and classified as the SDK's errors are.
    expect(standIn.seen).toHaveLength(2);
    expect(classifyS3Error(notFound, "read").failureClass).toBe("NotFound");
    expect(classifyS3Error(denied, "write")).toMatchObject({ failureClass: "AccessDenied" });
    expect(classifyS3Error(denied, "write").message).toMatch(/403 AccessDenied/);
  });

  it("retries throttling and server errors as the client's retry strategy says, then reports the last", async () => {
    // Prepare: S3 slows the first request down, then fails every later one.
    standIn.answerWith((_, res) =>
      standIn.seen.length === 1
        ? s3Error(res, 503, "SlowDown", "Please reduce your request rate.")
        : s3Error(res, 500, "InternalError"),
    );

    // Act
    const error = await objects.get("originals", "a.jpg").catch((e: unknown) => e);

    // Assess: maxAttempts (3) requests, then a Transient failure naming the last answer.
    expect(standIn.seen).toHaveLength(3);
    expect(classifyS3Error(error, "read")).toMatchObject({ failureClass: "Transient" });
    expect(classifyS3Error(error, "read").message).toMatch(/500 InternalError/);
  });

  it("recovers when a retry succeeds, and retries a connection cut before any answer", async () => {
    // Prepare: the first connection is destroyed without a response, the second is answered.
    standIn.answerWith((_, res, req) => {
      if (standIn.seen.length === 1) req.socket.destroy();
      else res.end("abc");
    });

    // Act
    const response = await objects.get("originals", "a.jpg");
    const text = await response.body.text();

    // Assess
    expect(text).toBe("abc");
    expect(response.contentLength).toBe(3);
    expect(standIn.seen).toHaveLength(2);
  });

  it("stops at the caller's deadline when S3 never answers, and does not retry past it", async () => {
    // Prepare: S3 holds every request open.
    standIn.answerWith(() => undefined);
    const signal = AbortSignal.timeout(200);

    // Act
    const error = await objects.get("originals", "slow.jpg", signal).catch((e: unknown) => e);

    // Assess: aborted by the signal, after one request.
    expect(signal.aborted).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(standIn.seen).toHaveLength(1);
  });
  it("stops at the caller's deadline while waiting to retry, not after the wait", async () => {
    // Prepare: S3 throttles every request, and the client's strategy waits a minute before a retry
    // (some versions wait inside the strategy itself, where only a race with the deadline ends it).
    standIn.answerWith((_, res) => s3Error(res, 503, "SlowDown", "Please reduce your request rate."));
    const patient = new S3Objects(
      new S3Client({
        endpoint: standIn.endpoint,
        region: "us-east-1",
        credentials: CREDENTIALS,
        forcePathStyle: true,
        retryStrategy: new ConfiguredRetryStrategy(5, () => 60_000),
      }),
      { connections: 1 },
    );
    const signal = AbortSignal.timeout(300);

    // Act: a hang here fails the test at vitest's timeout, long before the minute is up.
    const error = await patient.get("originals", "a.jpg", signal).catch((e: unknown) => e);

    // Assess: one request, ended by the deadline.
    expect(signal.aborted).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(standIn.seen).toHaveLength(1);
    await patient.close();
    patient.client.destroy();
  });

  it("does not retry a request undici refuses to send, and gives S3's empty error code no name", async () => {
    // Prepare
    standIn.answerWith((_, res) => s3Error(res, 400, ""));

    // Act
    const refused = await objects
      .put("thumbnails", "t.jpg", Buffer.from("x"), {
        contentType: "image/jpeg",
        cacheControl: "no-cache",
        metadata: { note: "two\nlines" },
      })
      .catch((e: unknown) => e);
    const empty = await objects.get("originals", "a.jpg").catch((e: unknown) => e);

    // Assess: the refused PUT never reached S3 and is not Transient; the 400 is named by its status.
    expect(standIn.seen).toHaveLength(1);
    expect(classifyS3Error(refused, "write").failureClass).toBe("Internal");
    expect((empty as Error).name).toBe("Http400");
  });
});

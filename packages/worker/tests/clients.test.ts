import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerS3 } from "../src/clients.js";
import type { S3Objects } from "../src/s3-objects.js";

/**
 * The worker's S3 must not recompute the checksum S3 returns with every GetObject, neither its own
 * requests nor its client's (see clients.ts). A loopback HTTP server stands in for S3 and answers every GET with a body whose
 * x-amz-checksum-crc32 header is wrong: a validating client rejects it, the worker's reads it.
 */
describe("createWorkerS3", () => {
  const body = Buffer.from("not what the checksum says");
  const requests: Array<Record<string, string | string[] | undefined>> = [];
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.headers);
      res.writeHead(200, {
        "content-type": "image/jpeg",
        "content-length": String(body.length),
        "x-amz-checksum-crc32": "AAAAAA==",
        "x-amz-checksum-type": "FULL_OBJECT",
      });
      res.end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const read = async (s3: S3Client) => {
    const response = await s3.send(new GetObjectCommand({ Bucket: "b", Key: "k.jpg" }));
    return Buffer.from(await response.Body!.transformToByteArray());
  };
  const readAsWorker = async (s3: S3Objects) => {
    const response = await s3.get("b", "k.jpg");
    return Buffer.from(await response.body.arrayBuffer());
  };

  it("reads originals without recomputing S3's checksum, which the SDK default does", async () => {
    // Prepare: both clients find the endpoint and credentials as the worker does, in its environment.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    });
    const defaults = new S3Client({ forcePathStyle: true });
    const worker = createWorkerS3({ forcePathStyle: true, concurrency: 1 });

    try {
      // Act
      const byDefault = await read(defaults).then(
        () => "accepted",
        (error: Error) => error.message,
      );
      const byWorker = await readAsWorker(worker);
      const byWorkerClient = await read(worker.client);

      // Assess: the default asks for the checksum and rejects the body; the worker's does neither.
      expect(byDefault).toMatch(/checksum mismatch/i);
      expect(byWorker.equals(body)).toBe(true);
      expect(byWorkerClient.equals(body)).toBe(true);
      expect(requests[0]?.["x-amz-checksum-mode"]).toBe("ENABLED");
      expect(requests[1]?.["x-amz-checksum-mode"]).toBeUndefined();
      expect(requests[2]?.["x-amz-checksum-mode"]).toBeUndefined();
    } finally {
      process.env = saved;
      defaults.destroy();
      await worker.close();
      worker.client.destroy();
    }
  });
});

import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createAdminApi, createHttpServer } from "@thumbs/error-consumer";
import { S3Objects } from "@thumbs/worker";
import type { LocalStack } from "./stack.js";

export interface AdminServer {
  /** Base URL: the API is under `/api`, the dashboard under `/dashboard/`. */
  url: string;
  /** Empty when started with `token: false`. */
  token: string;
  /** The dashboard URL with the token in its fragment (never sent to the server in a request line). */
  dashboardUrl: string;
  close(): Promise<void>;
}

/**
 * Serves the admin API and the dashboard for a local stack, on loopback, behind a bearer token;
 * `token: false` serves it without one, as on AWS where IAM stands in front (the signing proxy's tests).
 */
export async function startAdminServer(
  stack: LocalStack,
  options: { port?: number; token?: string | false } = {},
): Promise<AdminServer> {
  const token = options.token === false ? "" : (options.token ?? randomBytes(18).toString("base64url"));
  const { s3, sns } = stack.emulator.clients;
  // On-demand thumbnails read and write as the worker does; the emulator's client stays the stack's.
  const objects = new S3Objects(s3, { connections: 8 });
  const api = createAdminApi({
    ledger: stack.ledger,
    s3: objects,
    sns,
    config: {
      apiToken: token || undefined,
      sliceTopicArn: stack.emulator.topicArn,
      orderEventsTopicArn: stack.emulator.orderEventsTopicArn,
      sliceSize: stack.coordinatorConfig.sliceSize,
      thumbnailBucket: stack.emulator.resources.thumbnailBucket,
      thumbnailPrefix: "",
      maxInputBytes: 50 * 1024 * 1024,
      maxInputPixels: 100_000_000,
      imageTimeoutSeconds: 30,
    },
  });
  const server = createHttpServer(api);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    dashboardUrl: `${url}/dashboard/#token=${token}`,
    close: async () => {
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await objects.close();
    },
  };
}

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type OrderLedger, OrderNotFoundError } from "@thumbs/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAdminApi } from "../src/api.js";
import { createHttpServer, type HttpServerOptions } from "../src/http-server.js";
import { testConfig } from "./helpers/factories.js";
import { exchange, head, openConnection } from "./raw-http.js";

/**
 * The local server (createHttpServer over the real API core) over real HTTP on loopback; only the
 * ledger is a stand-in, so these run without Redis. The integration suite runs it against a real one.
 */

const TOKEN = "a-token-for-the-local-server";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MiB = 1024 * 1024;

const ledger = {
  getProgress: async (id: string) => {
    if (id !== "known") throw new OrderNotFoundError(id);
    return { orderId: id, total: 10 };
  },
  requirePlannedOrder: async (id: string) => {
    throw new OrderNotFoundError(id);
  },
  dismissError: async () => true,
} as unknown as OrderLedger;

const api = createAdminApi({
  ledger,
  s3: {} as never,
  sns: {} as never,
  config: testConfig({ apiToken: TOKEN }),
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function start(
  options: HttpServerOptions = {},
): Promise<{ server: Server; port: number; base: string }> {
  const server = createHttpServer(api, options);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, base: `http://127.0.0.1:${port}/api` };
}

const connections = (server: Server) =>
  new Promise<number>((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );

const errorOf = async (response: Response): Promise<string> =>
  ((await response.json()) as { error: string }).error;

describe("createHttpServer: path segments", () => {
  it.each(["%", "a%zz", "%E0%A4%A"])(
    "answers 400 to order id %s, which is not valid percent-encoding",
    async (id) => {
      // Prepare
      const { base } = await start();

      // Act
      const response = await fetch(`${base}/orders/${id}`, { headers: AUTH });

      // Assess
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatch(/order id: .* is not valid percent-encoding/);
    },
  );

  it("answers 400 to a stored thumbnail's name that is not valid percent-encoding", async () => {
    // Prepare
    const { base } = await start();

    // Act
    const response = await fetch(`${base}/orders/known/images/small/a%zz.jpg`, { headers: AUTH });

    // Assess
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/not valid percent-encoding/);
  });

  it.each(["0x3", "3.0", "03", "1e0", "+3", "-1", "%33", "1234567890"])(
    "answers 400 to image index %s: only plain decimal digits are an index",
    async (index) => {
      // Prepare
      const { base } = await start();

      // Act
      const response = await fetch(`${base}/orders/known/errors/${index}/dismiss`, {
        method: "POST",
        headers: AUTH,
      });

      // Assess
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatch(/image index: .*expected a whole number/);
    },
  );

  it.each([
    ["0", 0],
    ["3", 3],
    ["999999999", 999_999_999],
  ])("dismisses image index %s", async (raw, index) => {
    // Prepare
    const { base } = await start();

    // Act
    const response = await fetch(`${base}/orders/known/errors/${raw}/dismiss`, {
      method: "POST",
      headers: AUTH,
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ index, dismissed: true });
  });
});

describe("createHttpServer: request bodies", () => {
  it("answers 413 naming the limit to a body over 1 MiB, closes that connection, and serves the next request", async () => {
    // Prepare
    const { server, base } = await start({ keepAliveTimeoutMs: 100 });

    // Act
    const tooLarge = await fetch(`${base}/orders/known/retry`, {
      method: "POST",
      headers: AUTH,
      body: "x".repeat(MiB + 1),
    });
    const next = await fetch(`${base}/orders/known`, { headers: AUTH });
    await next.arrayBuffer();
    await vi.waitFor(async () => expect(await connections(server)).toBe(0));
    const afterIdleClose = await fetch(`${base}/orders/known`, { headers: AUTH });

    // Assess
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("connection")).toBe("close");
    expect(await errorOf(tooLarge)).toMatch(/too large.*1 MiB \(1048576 bytes\)/);
    expect([next.status, afterIdleClose.status]).toEqual([200, 200]);
  });

  it("answers 413 to a chunked body once it grows past the limit", async () => {
    // Prepare
    const { base } = await start();
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 2 * 16) controller.enqueue(chunk);
        else controller.close();
      },
    });

    // Act
    const response = await fetch(`${base}/orders/known/retry`, {
      method: "POST",
      headers: AUTH,
      body,
      duplex: "half",
    } as RequestInit);

    // Assess
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toMatch(/1 MiB/);
  });

  it("answers 413 to an anonymous caller declaring an oversized body, without waiting for it", async () => {
    // Prepare
    const { port } = await start();

    // Act: the headers alone, declaring 2 MiB.
    const answer = await exchange(
      port,
      head("POST /api/orders/known/retry HTTP/1.1", { host: "127.0.0.1", "content-length": 2 * MiB }),
    );

    // Assess
    expect(answer.statuses).toEqual([413]);
    expect(answer.text).toMatch(/^connection: close\r$/im);
    expect(answer.text).toMatch(/1 MiB/);
  });

  it("reads a body within the limit once the caller is authorized", async () => {
    // Prepare
    const { base } = await start();

    // Act
    const response = await fetch(`${base}/orders/known/retry`, {
      method: "POST",
      headers: AUTH,
      body: "{nope",
    });

    // Assess
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/expected JSON/);
  });
});

describe("createHttpServer: the token is checked before any body is read", () => {
  it("answers 401 at once to an anonymous POST that declares a body and stalls, and closes the connection", async () => {
    // Prepare
    const { port } = await start();

    // Act: declares 1000 bytes, sends one, then nothing.
    const answer = await exchange(
      port,
      `${head("POST /api/orders/known/retry HTTP/1.1", { host: "127.0.0.1", "content-length": 1000 })}{`,
    );

    // Assess
    expect(answer.statuses).toEqual([401]);
    expect(answer.text).toMatch(/^connection: close\r$/im);
  });

  it("answers 401 to an anonymous `Expect: 100-continue` upload without asking for the body", async () => {
    // Prepare
    const { port } = await start();

    // Act
    const answer = await exchange(
      port,
      head("POST /api/orders/known/retry HTTP/1.1", {
        host: "127.0.0.1",
        "content-length": 1000,
        expect: "100-continue",
      }),
    );

    // Assess
    expect(answer.statuses).toEqual([401]);
  });

  it("asks an authorized `Expect: 100-continue` upload for its body when the route reads it", async () => {
    // Prepare
    const { port } = await start();
    const socket = await openConnection(port);
    let text = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => (text += chunk));

    // Act
    socket.write(
      head("POST /api/orders/known/retry HTTP/1.1", {
        host: "127.0.0.1",
        ...AUTH,
        "content-length": 5,
        expect: "100-continue",
        connection: "close",
      }),
    );
    await vi.waitFor(() => expect(text).toMatch(/^HTTP\/1\.1 100 Continue/));
    socket.write("{nope");
    await new Promise((resolve) => socket.once("close", resolve));

    // Assess
    expect([...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1])).toEqual(["100", "400"]);
    expect(text).toMatch(/expected JSON/);
  });
});

describe("createHttpServer: timeouts and connection cap", () => {
  it("answers 408 and closes when an authorized client sends its headers and then stalls the body", async () => {
    // Prepare
    const { port } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });

    // Act
    const answer = await exchange(
      port,
      `${head("POST /api/orders/known/retry HTTP/1.1", { host: "127.0.0.1", ...AUTH, "content-length": 100 })}{`,
    );

    // Assess
    expect(answer.statuses).toEqual([408]);
  });

  it("answers 408 and closes when a client never finishes its headers", async () => {
    // Prepare
    const { port } = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });

    // Act
    const answer = await exchange(port, "GET /api/orders/known HTTP/1.1\r\nhost: 127.0.0.1\r\n");

    // Assess
    expect(answer.statuses).toEqual([408]);
  });

  it("defaults to short timeouts and a connection cap", async () => {
    // Act
    const { server } = await start();

    // Assess
    expect({
      headersTimeout: server.headersTimeout,
      requestTimeout: server.requestTimeout,
      keepAliveTimeout: server.keepAliveTimeout,
      maxConnections: server.maxConnections,
    }).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      maxConnections: 256,
    });
  });

  it("drops connections past maxConnections, and accepts again once one closes", async () => {
    // Prepare
    const { server, port, base } = await start({ maxConnections: 2 });
    const held = [await openConnection(port), await openConnection(port)];
    await vi.waitFor(async () => expect(await connections(server)).toBe(2));

    // Act
    const refused = await exchange(port, head("GET /api/health HTTP/1.1", { host: "127.0.0.1" }));
    held[0]!.destroy();
    await vi.waitFor(async () => expect(await connections(server)).toBe(1));
    const accepted = await fetch(`${base}/health`);
    held[1]!.destroy();

    // Assess
    expect(refused.statuses).toEqual([]);
    expect(accepted.status).toBe(200);
  });
});

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { readBody } from "../src/http-server.js";
import { regionOfApiUrl } from "../src/sign-request.js";
import { createSigningProxy } from "../src/signing-proxy.js";
import { exchange, head } from "./raw-http.js";

/**
 * The dashboard's signing proxy against a stand-in for API Gateway: a real HTTP server that checks
 * every request's SigV4 signature the way API Gateway does, by signing the request it received again
 * (same credentials, same timestamp, only the headers the client said it signed) and comparing.
 */

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token-example",
};
const REGION = "eu-west-1";
const TOKEN = "a-token-for-the-dashboard-tab";
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: string;
  signatureValid: boolean;
}

/** Query parameters as SigV4 reads them: `+` is a plus sign, not a space. */
function sigv4Query(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const pair of search.replace(/^\?/, "").split("&").filter(Boolean)) {
    const [name, value = ""] = pair.split("=");
    query[decodeURIComponent(name!)] = decodeURIComponent(value);
  }
  return query;
}

async function verifySignature(req: IncomingMessage, body: string): Promise<boolean> {
  const authorization = req.headers.authorization ?? "";
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? "");
  const [rawPath, search = ""] = (req.url ?? "/").split("?");
  const [hostname, port] = String(req.headers.host).split(":");
  const again = await new SignatureV4({
    service: "execute-api",
    region: REGION,
    credentials: CREDENTIALS,
    sha256: Sha256,
  }).sign(
    new HttpRequest({
      method: req.method,
      protocol: "http:",
      hostname,
      port: Number(port),
      // As API Gateway does: the path as it arrived (encoded once); the signer encodes it again.
      path: rawPath!,
      query: sigv4Query(search),
      headers,
      body: body || undefined,
    }),
    {
      signingDate: new Date(
        amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
      ),
    },
  );
  return authorization !== "" && again.headers.authorization === authorization;
}

const seen: Seen[] = [];
let upstream: Server;
let proxy: Server;
let base: string;
let upstreamPort: number;

/** `/prod/status/{code}`: the stand-in answers with that status; a 413 before reading the body, as the API does. */
const answerWithStatus = (path: string) => /^\/prod\/status\/(\d{3})$/.exec(path)?.[1];

beforeAll(async () => {
  upstream = createServer(async (req, res) => {
    if (answerWithStatus(req.url ?? "") === "413") {
      return void res
        .writeHead(413, { "content-type": "application/json", connection: "close" })
        .end(JSON.stringify({ error: "Request body too large: the API's own answer" }));
    }
    const body = await readBody(req);
    const [path, search = ""] = (req.url ?? "/").split("?");
    seen.push({
      method: req.method ?? "",
      path: path!,
      query: sigv4Query(search),
      headers: req.headers,
      body,
      signatureValid: await verifySignature(req, body),
    });
    if (path === "/prod/forbidden") return void res.writeHead(403).end('{"message":"Forbidden"}');
    const status = answerWithStatus(path!);
    if (status) {
      return void res
        .writeHead(Number(status), { "content-type": "application/json" })
        .end(JSON.stringify({ error: `the API's own ${status}` }));
    }
    if (path!.includes("/thumbnails/")) {
      return void res
        .writeHead(200, {
          "content-type": "image/jpeg",
          "x-thumbnail-source": "generated",
          "x-internal": "1",
        })
        .end(JPEG);
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = createSigningProxy({
    api: new URL(`http://127.0.0.1:${upstreamPort}/prod/`),
    region: REGION,
    credentials: async () => CREDENTIALS,
    token: TOKEN,
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([upstream, proxy].map((s) => new Promise((resolve) => s.close(resolve))));
});

const authorized = { authorization: `Bearer ${TOKEN}` };

const close = (server: Server) => new Promise((resolve) => server.close(resolve));
/** Listens on a free loopback port; the server is closed when the test ends, pass or fail. */
async function listen(server: Server): Promise<number> {
  onTestFinished(async () => {
    if (server.listening) await close(server);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}
const last = () => seen.at(-1)!;

describe("createSigningProxy", () => {
  it("forwards a dashboard GET under the API's base path, signed, without the dashboard's token", async () => {
    // Act
    const response = await fetch(`${base}/api/orders/A-1001/errors?limit=50&class=Corrupt`, {
      headers: authorized,
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect(last()).toMatchObject({
      method: "GET",
      path: "/prod/orders/A-1001/errors",
      query: { limit: "50", class: "Corrupt" },
      signatureValid: true,
    });
    expect(last().headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    expect(last().headers["x-amz-security-token"]).toBe(CREDENTIALS.sessionToken);
  });

  it("signs query values with spaces, slashes, plus signs and non-ASCII as API Gateway reads them", async () => {
    // Prepare
    const key = "orders/A 1/Ü+bild (2).jpg";

    // Act
    const response = await fetch(`${base}/api/orders/A-1/thumbnails/small?key=${encodeURIComponent(key)}`, {
      headers: authorized,
    });

    // Assess
    expect(response.status).toBe(200);
    expect(last().query).toEqual({ key });
    expect(last().signatureValid).toBe(true);
  });

  it("signs a path with characters that must be percent-encoded (an order id with a space and ü)", async () => {
    // Act
    const response = await fetch(`${base}/api/orders/${encodeURIComponent("A 1001-ü")}`, {
      headers: authorized,
    });

    // Assess
    expect(response.status).toBe(200);
    expect(last()).toMatchObject({ path: "/prod/orders/A%201001-%C3%BC", signatureValid: true });
  });

  it("forwards a POST body, covered by the signature", async () => {
    // Act
    const response = await fetch(`${base}/api/orders/A-1001/retry`, {
      method: "POST",
      headers: { ...authorized, "content-type": "application/json" },
      body: JSON.stringify({ indices: [3, 7] }),
    });

    // Assess
    expect(response.status).toBe(200);
    expect(last()).toMatchObject({ method: "POST", body: '{"indices":[3,7]}', signatureValid: true });
    expect(last().headers["content-type"]).toBe("application/json");
  });

  it("passes image bytes back unchanged, with the headers the dashboard reads and no others", async () => {
    // Act
    const response = await fetch(`${base}/api/orders/A-1/thumbnails/large?key=orders%2FA-1%2Fx.jpg`, {
      headers: authorized,
    });

    // Assess
    expect(Buffer.from(await response.arrayBuffer())).toEqual(JPEG);
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    expect(response.headers.get("x-thumbnail-source")).toBe("generated");
    expect(response.headers.get("x-internal")).toBeNull();
  });

  it("has a stand-in that really checks: a valid signature replayed for another path fails", async () => {
    // Prepare
    await fetch(`${base}/api/orders/A-1001`, { headers: authorized });
    const { authorization, "x-amz-date": date, "x-amz-security-token": session } = last().headers;

    // Act
    await fetch(`http://127.0.0.1:${upstreamPort}/prod/orders/A-1002`, {
      headers: {
        authorization: authorization!,
        "x-amz-date": String(date),
        "x-amz-security-token": String(session),
      },
    });

    // Assess
    expect(last()).toMatchObject({ path: "/prod/orders/A-1002", signatureValid: false });
  });

  it("refuses API calls without the dashboard's token, before anything is signed or sent", async () => {
    // Prepare
    const before = seen.length;

    // Act
    const none = await fetch(`${base}/api/orders`);
    const wrong = await fetch(`${base}/api/orders`, { headers: { authorization: "Bearer guess" } });

    // Assess
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(((await none.json()) as { error: string }).error).toMatch(/open the dashboard URL/);
    expect(seen.length).toBe(before);
  });

  it("refuses a request addressed to another host name (DNS rebinding)", async () => {
    // Prepare
    const before = seen.length;
    const { request } = await import("node:http");

    // Act
    const status = await new Promise<number>((resolve, reject) => {
      request(`${base}/api/orders`, { headers: { ...authorized, host: "evil.example:80" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });

    // Assess
    expect(status).toBe(421);
    expect(seen.length).toBe(before);
  });

  it("explains AWS's 403: which permission the credentials lack", async () => {
    // Act
    const response = await fetch(`${base}/api/forbidden`, { headers: authorized });

    // Assess
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toMatch(/execute-api:Invoke/);
  });

  it("serves the dashboard's files without a token (the token arrives in the URL fragment)", async () => {
    // Act
    const response = await fetch(`${base}/dashboard/`);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<script[^>]+app\.js/);
  });

  it("answers 502 naming the credentials when they cannot sign, without claiming the API is unreachable", async () => {
    // Prepare
    const unsigned = createSigningProxy({
      api: new URL(`http://127.0.0.1:${upstreamPort}/`),
      region: REGION,
      credentials: async () => {
        throw new Error("token expired: run aws sso login");
      },
      token: TOKEN,
    });
    const port = await listen(unsigned);

    // Act
    const response = await fetch(`http://127.0.0.1:${port}/api/orders`, { headers: authorized });

    // Assess
    expect(response.status).toBe(502);
    const { error } = (await response.json()) as { error: string };
    expect(error).toMatch(/Could not sign .*AWS credentials.*aws sso login/);
    expect(error).not.toMatch(/Could not reach/);
  });

  it("answers 502 'Could not reach the admin API' when nothing listens at the API's address", async () => {
    // Prepare: a port that was free a moment ago.
    const gone = createServer();
    const deadPort = await listen(gone);
    await close(gone);
    const unreachable = createSigningProxy({
      api: new URL(`http://127.0.0.1:${deadPort}/prod/`),
      region: REGION,
      credentials: async () => CREDENTIALS,
      token: TOKEN,
    });
    const port = await listen(unreachable);

    // Act
    const response = await fetch(`http://127.0.0.1:${port}/api/orders`, { headers: authorized });

    // Assess
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /^Could not reach the admin API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it.each([404, 409, 500, 503])("passes the API's own %i through, with its error", async (status) => {
    // Act
    const response = await fetch(`${base}/api/status/${status}`, {
      method: "POST",
      headers: authorized,
      body: "{}",
    });

    // Assess
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: `the API's own ${status}` });
  });

  it("passes the API's own 413 through, when the API refuses a body the proxy accepted", async () => {
    // Act: within the proxy's limit; the stand-in answers before reading it and closes.
    const response = await fetch(`${base}/api/status/413`, {
      method: "POST",
      headers: authorized,
      body: "x".repeat(512 * 1024),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: "Request body too large: the API's own answer" });
  });

  it("answers 413 naming the limit to a body over 1 MiB, without signing or sending it", async () => {
    // Prepare
    const before = seen.length;

    // Act
    const response = await fetch(`${base}/api/orders/A-1/retry`, {
      method: "POST",
      headers: authorized,
      body: "x".repeat(1024 * 1024 + 1),
    });

    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    expect(((await response.json()) as { error: string }).error).toMatch(/too large.*1 MiB/);
    expect(seen.length).toBe(before);
  });

  it("answers 401 at once to a POST without the token that stalls its body, and closes the connection", async () => {
    // Prepare
    const port = Number(new URL(base).port);

    // Act: declares 1000 bytes, sends one, then nothing.
    const answer = await exchange(
      port,
      `${head("POST /api/orders/A-1/retry HTTP/1.1", { host: `127.0.0.1:${port}`, "content-length": 1000 })}{`,
    );

    // Assess
    expect(answer.statuses).toEqual([401]);
    expect(answer.text).toMatch(/^connection: close\r$/im);
  });
});

describe("regionOfApiUrl", () => {
  it("reads the region from an execute-api host name, and nothing from any other", () => {
    // Act
    const regions = [
      "https://abc123.execute-api.eu-west-1.amazonaws.com/",
      "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod",
      "https://admin.example.com/",
    ].map((u) => regionOfApiUrl(new URL(u)));

    // Assess
    expect(regions).toEqual(["eu-west-1", "cn-north-1", undefined]);
  });
});

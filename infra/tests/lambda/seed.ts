import { Agent, request } from "node:http";
import pLimit from "p-limit";

/**
 * Puts many one-byte objects into the emulator's bucket over plain HTTP, without the SDK: a 100,000
 * image order is a fixture here, and the SDK's signing and middleware per request would make seeding
 * it take minutes. (fauxqs checks no signatures; it needs a body and a content type.)
 */
export async function seedObjects(
  endpoint: string,
  bucket: string,
  keys: string[],
  sockets = 32,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(endpoint);
  const put = (key: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port,
          method: "PUT",
          path: `/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
          agent,
          headers: { "content-type": "application/octet-stream", "content-length": 1 },
        },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk;
          });
          res.on("end", () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode} ${body}`)),
          );
        },
      );
      req.on("error", reject);
      req.end("x");
    });
  const limit = pLimit(sockets);
  try {
    await Promise.all(keys.map((key) => limit(() => put(key))));
  } finally {
    agent.destroy();
  }
}

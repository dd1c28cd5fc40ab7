import { createServer, type Server } from "node:http";
import type { ApiRequest, ApiResponse } from "./api.js";

/** Serves the API core over node:http for the local runtime. */
export function createHttpServer(api: (request: ApiRequest) => Promise<ApiResponse>): Server {
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers))
        headers[name] = Array.isArray(value) ? value[0] : value;
      const response = await api({
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
      });
      res.writeHead(response.status, response.headers).end(response.body);
    } catch {
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "Internal error" }));
    }
  });
}

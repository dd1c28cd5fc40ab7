import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import sirv from "sirv";
import type { ApiRequest, ApiResponse } from "./http.js";

/** The dashboard's static files; this module runs from src/ or dist/, one level below the package. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../dashboard/", import.meta.url));

/** A request body as text, refused past `limit` bytes. */
export const readBody = async (
  req: import("node:http").IncomingMessage,
  limit = 1024 * 1024,
): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
};

/**
 * Serves the API core over node:http for the local runtime, under `/api`, and the dashboard's static
 * files under `/dashboard/` (on AWS the same files go to any static host).
 */
export function createHttpServer(api: (request: ApiRequest) => Promise<ApiResponse>): Server {
  const outsideApi = dashboardRoutes();
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (outsideApi(req, res, url)) return;
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers))
        headers[name] = Array.isArray(value) ? value[0] : value;
      const response = await api({
        method: req.method ?? "GET",
        path: url.pathname.slice("/api".length),
        query: Object.fromEntries(url.searchParams),
        headers,
        body: req.method === "POST" ? await readBody(req) : undefined,
      });
      res.writeHead(response.status, response.headers).end(response.body);
    } catch {
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "Internal error" }));
    }
  });
}

/**
 * Everything outside `/api/`, for this server and the signing proxy alike: `/` redirects to the
 * dashboard, `/dashboard/*` serves its files, anything else is 404. True when it answered.
 */
export function dashboardRoutes(): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const assets = sirv(DASHBOARD_DIR, { dev: false, etag: true });
  return (req, res, url) => {
    if (url.pathname === "/") {
      res.writeHead(302, { location: "/dashboard/" }).end();
    } else if (url.pathname.startsWith("/dashboard")) {
      req.url = req.url?.slice("/dashboard".length) || "/";
      assets(req, res, () => void res.writeHead(404).end());
    } else if (!url.pathname.startsWith("/api/")) {
      res.writeHead(404).end();
    } else {
      return false;
    }
    return true;
  };
}

import { connect, type Socket } from "node:net";

/** What a server sent on one connection, up to the moment it closed it. */
export interface Exchange {
  /** Everything received, as text. */
  text: string;
  /** Status codes of every status line received, in order (a `100 Continue` counts as one). */
  statuses: number[];
}

/** A TCP connection to `port` on loopback, once it is established. */
export function openConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket)).once("error", reject);
  });
}

/**
 * Writes `data` on a fresh connection (a request written by hand: headers, perhaps part of a body),
 * then sends nothing more and collects what the server answers until it closes the connection.
 * Rejects if the server still holds the connection open after `withinMs`: a bound, not a wait.
 */
export async function exchange(port: number, data: string, withinMs = 3_000): Promise<Exchange> {
  const socket = await openConnection(port);
  return new Promise((resolve, reject) => {
    let text = "";
    const bound = setTimeout(() => {
      socket.destroy();
      reject(new Error(`The server still held the connection open after ${withinMs} ms; got: ${text}`));
    }, withinMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", () => {}); // a reset after the answer still ends the exchange, via "close"
    socket.once("close", () => {
      clearTimeout(bound);
      resolve({ text, statuses: [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])) });
    });
    socket.write(data);
  });
}

/** A request head as a client writes it, CRLF-terminated, with a blank line after the headers. */
export function head(requestLine: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `${[requestLine, ...lines].join("\r\n")}\r\n\r\n`;
}

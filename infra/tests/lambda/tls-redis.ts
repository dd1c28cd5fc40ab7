import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { Redis } from "ioredis";

export interface TlsRedis {
  /** The endpoint name the server's certificate is for, as ElastiCache's is for its own. */
  host: string;
  port: number;
  password: string;
  /** The CA that signed the server's certificate: give it to node as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** A client of the test's own, to read what the functions wrote. */
  connect(): Redis;
  stop(): Promise<void>;
}

/**
 * A `redis-server` as ElastiCache runs with transit encryption and an AUTH token: TLS only (no
 * plaintext port), a certificate for `localhost` signed by a throwaway CA, and a password.
 */
export async function startTlsRedis(): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), "thumbs-tls-redis-"));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=thumbs test CA",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
  );
  writeFileSync(file("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    file("san.ext"),
    "-out",
    file("server.crt"),
  );

  const port = await getPort({ host: "127.0.0.1" });
  const password = `token-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      file("server.crt"),
      "--tls-key-file",
      file("server.key"),
      "--tls-ca-cert-file",
      file("ca.crt"),
      "--tls-auth-clients",
      "no",
      "--requirepass",
      password,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const connect = () =>
    new Redis({ host: "localhost", port, password, tls: { ca: [readFileSync(file("ca.crt"), "utf8")] } });
  // Ready when a TLS client with the password gets an answer: ioredis keeps reconnecting until the
  // server listens, and gives up after its retries per request.
  const probe = connect();
  probe.on("error", () => {});
  try {
    await probe.ping();
  } catch (error) {
    await stop();
    throw new Error("redis-server did not start with TLS (is it built with TLS support?)", { cause: error });
  } finally {
    probe.disconnect();
  }
  return { host: "localhost", port, password, caFile: file("ca.crt"), connect, stop };
}

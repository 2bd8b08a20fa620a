// What the HAProxy and Caddy test helpers share: the interface a test uses to talk through either
// proxy (curl, ab, wrk or raw bytes over TLS), a test certificate, and the service started as
// printerfacts@.service runs it.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { eventually } from "./eventually.ts";
import { parseResponses, type RawResponse } from "./raw.ts";
import { BINARY, type Running, startListening } from "./server.ts";

export interface Cert {
  cert: string;
  key: string;
  /** Certificate chain and key in one file, as HAProxy's `crt` takes it. */
  combined: string;
}

/** A self-signed certificate for 127.0.0.1 (as IP and DNS name), made with the real openssl. */
export function testCert(dir: string): Cert {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const combined = join(dir, "combined.pem");
  writeFileSync(combined, readFileSync(cert, "utf8") + readFileSync(key, "utf8"), { mode: 0o600 });
  return { cert, key, combined };
}

/** Where a rendered proxy config points: test sockets, loopback ports, the test certificate. */
export interface ProxySite {
  sockets: string[];
  httpPort: number;
  httpsPort: number;
  cert: Cert;
}

export interface RawExchangeResult {
  responses: RawResponse[];
  received: string;
  closedByServer: boolean;
}

/** A running proxy in front of the service: what a test needs to send requests through it. */
export interface RunningProxy {
  name: "haproxy" | "caddy";
  /** https://127.0.0.1:PORT, the TLS listener (HTTP/1.1 and h2). */
  https: string;
  /** http://127.0.0.1:PORT, the plain listener that redirects to HTTPS. */
  http: string;
  httpsPort: number;
  /** The Host header the site answers for (Caddy matches it; HAProxy answers any). */
  host: string;
  /** Raw bytes to the TLS listener (HTTP/1.1 by ALPN), with rawExchange's semantics. */
  raw(
    data: string | Uint8Array,
    opts?: { responses?: number; untilClosed?: boolean; timeoutMs?: number },
  ): Promise<RawExchangeResult>;
  /** The proxy's access log so far (one line per request). */
  accessLog(): string;
  /** Everything else the proxy wrote (start-up, warnings, errors). */
  errorLog(): string;
  stop(): Promise<void>;
}

/** Replace `from` with `to`, failing loudly if the shipped file (`file`) no longer has `from`. */
export function replaceExactly(file: string, text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

/** rawExchange (helpers/raw.ts) over TLS to 127.0.0.1:port, certificate not verified. */
export function rawTlsExchange(
  port: number,
  data: string | Uint8Array,
  { responses = 1, untilClosed = false, timeoutMs = 5000 } = {},
): Promise<RawExchangeResult> {
  return new Promise((resolve, reject) => {
    let received = "";
    let closed = false;
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("close", () => {
      closed = true;
    });
    let secured = false;
    socket.on("error", (err) => {
      // Before the handshake the connection itself failed; after it, a reset ends the exchange.
      if (!secured) reject(err);
      closed = true;
    });
    socket.on("secureConnect", async () => {
      secured = true;
      // The server may answer and close before all is written (a 413): that is not an error.
      socket.write(data, () => {});
      const done = () => closed || (!untilClosed && parseResponses(received).length >= responses);
      // As rawExchange: reaching the deadline is an answer too, judged by the caller.
      await eventually(done, { what: "the answer or the close", timeoutMs, intervalMs: 5 }).catch(() => {});
      const result = { responses: parseResponses(received), received, closedByServer: closed };
      socket.destroy();
      resolve(result);
    });
  });
}

/** Wait until 127.0.0.1:port accepts a TCP connection; fails with `why()` after timeoutMs. */
export async function waitForPort(port: number, why: () => string, timeoutMs = 5000): Promise<void> {
  const accepts = async () => {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return true;
    } catch {
      return false;
    }
  };
  await eventually(accepts, { what: () => `127.0.0.1:${port} to accept: ${why()}`, timeoutMs });
}

/**
 * The compiled binary (or `command`) as printerfacts@.service runs it (startListening runs it as
 * the service user), with SOCKMODE=0660 and the socket's group its own; JSON access log.
 */
export function startInstance(
  sock: string,
  env: Record<string, string> = {},
  command: readonly string[] = [BINARY],
): Promise<Running> {
  return startListening(command, {
    SOCKPATH: sock,
    SOCKMODE: "0660",
    SHUTDOWN_TIMEOUT: "5",
    LOG_FORMAT: "json",
    ...env,
  });
}

/** The service's JSON access log lines so far. */
export function serviceLog(proc: Running): Array<Record<string, unknown>> {
  return proc
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// Raw bytes over a real socket: requests that fetch and curl would refuse to send, and
// connections held open part-way through a request.
import { spawnSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { eventually } from "./eventually.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawConnection {
  socket: Socket;
  /** Everything received so far, as latin1 so every byte survives. */
  received(): string;
  /** Complete responses received so far, in order. */
  responses(): RawResponse[];
  /** Resolves when the server closes (or resets) the connection, with ms since connecting. */
  closed: Promise<{ ms: number; error?: string }>;
  isClosed(): boolean;
  write(data: string | Uint8Array): Promise<void>;
  destroy(): void;
}

/** A Unix socket path, or a TCP port on 127.0.0.1. */
export type Target = string | number;

/**
 * Connect; rejects if the connection itself fails (ENOENT, ECONNREFUSED, EMFILE...). With
 * allowHalfOpen, the client keeps its side open after the server ends its own, as a client may.
 */
export function openRaw(target: Target, { allowHalfOpen = false } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket =
      typeof target === "number"
        ? connect({ port: target, host: "127.0.0.1", allowHalfOpen })
        : connect({ path: target, allowHalfOpen });
    const started = Date.now();
    let received = "";
    let connected = false;
    let closedFlag = false;
    let error: string | undefined;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      if (!connected) reject(err);
    });
    const closed = new Promise<{ ms: number; error?: string }>((done) =>
      socket.on("close", () => {
        closedFlag = true;
        done({ ms: Date.now() - started, error });
      }),
    );
    socket.on("connect", () => {
      connected = true;
      resolve({
        socket,
        received: () => received,
        responses: () => parseResponses(received),
        closed,
        isClosed: () => closedFlag,
        write: (data) => new Promise((ok, fail) => socket.write(data, (err) => (err ? fail(err) : ok()))),
        destroy: () => socket.destroy(),
      });
    });
  });
}

/**
 * Send `data` on a fresh connection and wait until `responses` complete responses have arrived
 * (and, with untilClosed, the server has closed the connection), or the server closes it, or
 * timeoutMs passes. The connection is then closed.
 */
export async function rawExchange(
  target: Target,
  data: string | Uint8Array,
  { responses = 1, untilClosed = false, timeoutMs = 5000 } = {},
): Promise<{ responses: RawResponse[]; received: string; closedByServer: boolean }> {
  const conn = await openRaw(target);
  // The server may answer and close before all is written (a 413 or 431): that is not an error.
  conn.write(data).catch(() => {});
  const done = () => conn.isClosed() || (!untilClosed && conn.responses().length >= responses);
  // Reaching the deadline is an answer too (the server neither answered nor closed): the caller
  // judges what arrived by then.
  await eventually(done, { what: "the answer or the close", timeoutMs, intervalMs: 5 }).catch(() => {});
  const result = { responses: conn.responses(), received: conn.received(), closedByServer: conn.isClosed() };
  conn.destroy();
  return result;
}

/** Parse the complete HTTP/1.1 responses at the start of `raw` (Content-Length or chunked bodies). */
export function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  for (;;) {
    const headEnd = rest.indexOf("\r\n\r\n");
    if (headEnd === -1) return out;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body = rest.slice(headEnd + 4);
    if (headers["transfer-encoding"]?.includes("chunked")) {
      const end = body.indexOf("0\r\n\r\n");
      if (end === -1) return out;
      rest = body.slice(end + 5);
      body = body.slice(0, end);
    } else {
      const length = Number(headers["content-length"] ?? 0);
      if (body.length < length) return out;
      rest = body.slice(length);
      body = body.slice(0, length);
    }
    out.push({ status, headers, body });
  }
}

/**
 * Ways a client leaves a connection hanging: what it sends, then what it drips (if anything).
 * Shared by test/limits.test.ts and scripts/timeouts.ts.
 */
export const STALLS: Record<string, { send: string; drip?: string }> = {
  "connects, sends nothing": { send: "" },
  "half a request line": { send: "GET /fa" },
  "headers without the blank line": { send: "GET /fact HTTP/1.1\r\nHost: x\r\n" },
  "headers, dripped a byte at a time": { send: "GET /fact HTTP/1.1\r\nHost: x\r\nX-Slow: ", drip: "a" },
  "10 of 100 body bytes": { send: "POST /fact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789" },
  "body, dripped a byte at a time": {
    send: "POST /fact HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
    drip: "b",
  },
  "idle keep-alive after a response": { send: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" },
};

/**
 * The connections process `pid` has accepted on its Unix socket, as `ss` (iproute2) lists them:
 * the server end's inode → bytes the server has not read yet. A connection still in the listen
 * queue is not among them. So a test can wait until the server really holds a connection.
 */
export function acceptedBy(pid: number): Map<string, number> {
  const r = spawnSync("ss", ["-xHnp", "state", "connected"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ss -x failed: ${r.stderr}`);
  const rows = r.stdout
    .split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/));
  // Netid State Recv-Q Send-Q Local-path Local-inode Peer Peer-inode ...; a socketpair's end has no path.
  return new Map(rows.filter((f) => f[4] !== "*").map((f) => [f[5], Number(f[2])]));
}

/** Wait until `pid` holds `count` connections it did not hold in `before`, each read to the end. */
export async function serverHolds(pid: number, before: Map<string, number>, count: number): Promise<void> {
  let now = new Map<string, number>();
  await eventually(
    () => {
      now = acceptedBy(pid);
      const fresh = [...now].filter(([inode]) => !before.has(inode));
      return fresh.length >= count && fresh.every(([, unread]) => unread === 0);
    },
    { what: () => `process ${pid} to accept and read ${count} new connections; it holds ${JSON.stringify([...now])}` },
  );
}

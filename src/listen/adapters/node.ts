// Node adapter: @hono/node-server's node:http server on a socket path, [host]:port or an
// inherited fd. Deno uses it too for a systemd socket, since Deno.serve cannot take an fd.
import type { AddressInfo, Socket } from "node:net";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { Server } from "node:http";
import { formatAddress, InFlight, raceTimeout, refuseConnect, UNIX_CONN } from "./shared.ts";
import type { Adapter, Handler, Listener, ListenOptions } from "../../types.ts";

const HEADERS_TIMEOUT_MS = 12_000;
/** How long a socket Node handed over (CONNECT) is kept after our answer, for the client to read it. */
const HANDED_OVER_LINGER_MS = 1000;
/**
 * Requests one connection may have waiting behind answers not yet written out. Proxies never
 * pipeline; a client that sends more at once than this without reading is closed (see admit()).
 */
const MAX_QUEUED = 64;

/** What the adapter keeps per connection, on the socket itself. */
interface Pipeline {
  /** Its requests admitted and not yet ended. */
  open: number;
  previous?: ServerResponse;
  /** An answer on it said the connection closes after it: no later request is answered. */
  closes: boolean;
  /** The connection closed: its requests still open were ended then. */
  gone: boolean;
}
const PIPELINE = Symbol("pipeline");
type Piped<T> = T & { [PIPELINE]?: Pipeline };

export default {
  runtime: "node",
  listen: ({ target, handler, idleTimeoutSeconds }) => listenNodeHttp(target, handler, idleTimeoutSeconds),
} satisfies Adapter;

export async function listenNodeHttp(
  target: ListenOptions["target"],
  handler: Handler,
  idleTimeoutSeconds?: number,
): Promise<Listener> {
  const transport = target.kind === "tcp" ? "tcp" : "unix";
  const server = createAdaptorServer({
    // The URL's host when a request has no Host header (HTTP/1.0), as Bun and Deno serve those too.
    hostname: "localhost",
    // Unfinished request headers are cut after 12 s, as Bun does (Node's default is 60 s, looked
    // at every 30 s, so a stalled client could hold a connection for 90 s).
    serverOptions: {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: HEADERS_TIMEOUT_MS * 2,
      connectionsCheckingInterval: 1000,
    },
    // Every request passes admit() before Hono sees it.
    createServer: ((options: object, listener: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer(options, (req, res) => {
        const go = admit(req, res);
        if (go === true) listener(req, res);
        else if (go) void go.then((yes) => yes && listener(req, res));
      })) as typeof createServer,
    fetch: (request: Request, env: HttpBindings | Http2Bindings) => {
      // An inherited socket may be TCP too; the socket itself says which.
      const remoteAddress = env.incoming.socket.remoteAddress;
      return handler(request, remoteAddress === undefined ? UNIX_CONN : { transport: "tcp", remoteAddress });
    },
  }) as Server;
  // IDLE_TIMEOUT: how long an idle keep-alive connection is kept (Node's default is 5 s; 0 = never).
  if (idleTimeoutSeconds !== undefined) server.keepAliveTimeout = idleTimeoutSeconds * 1000;

  // close() alone lets a keep-alive connection linger for its 5 s timeout once idle. While
  // closing, each connection is closed as soon as its last request ends.
  let closing = false;
  const requests = new InFlight();

  // Node stops reading a connection whose answers back up, but only after parsing all it read at
  // once (64 KiB: ~2000 short pipelined requests), and it keeps every request and answer queued:
  // ~11 MB per connection that pipelines and never reads. A connection with more than MAX_QUEUED
  // requests waiting is closed, and the rest of what was read is parsed but never reaches Hono
  // (garbage, given back to the OS only when V8's memory reducer runs: docs/runtime-issues.md).
  // A pipelined request reaches the app only once the answer before it is sent, as it would be
  // answered anyway; none does after an answer that closes the connection (Node would parse it,
  // the app log it, and nobody send it). Each request's end is counted once, by its response's
  // close or else its socket's: a response still queued when its connection closes emits none.
  // Per request: a count, and one 'close' listener shared by all responses, not closures and
  // once() wrappers per request, which cost Node ~5% of its throughput (docs/benchmarks.md).
  function pipelineOf(socket: Piped<Socket>): Pipeline {
    let pipeline = socket[PIPELINE];
    if (pipeline === undefined) {
      const created: Pipeline = { open: 0, closes: false, gone: false };
      pipeline = socket[PIPELINE] = created;
      socket.once("close", () => {
        created.gone = true;
        for (; created.open > 0; created.open--) requests.end();
      });
    }
    return pipeline;
  }
  function ended(this: Piped<ServerResponse>) {
    const pipeline = this[PIPELINE] as Pipeline;
    if (this.writableFinished && (!this.shouldKeepAlive || (this as { _last?: boolean })._last)) pipeline.closes = true;
    if (pipeline.gone) return;
    pipeline.open--;
    requests.end();
    if (closing) setImmediate(() => server.closeIdleConnections());
  }
  function admit(req: IncomingMessage, res: Piped<ServerResponse>): boolean | Promise<boolean> {
    const socket = req.socket;
    if (socket.destroyed) return false;
    const pipeline = pipelineOf(socket);
    if (pipeline.closes) return false;
    if (pipeline.open >= MAX_QUEUED) {
      socket.destroy();
      return false;
    }
    requests.begin();
    pipeline.open++;
    res[PIPELINE] = pipeline;
    res.on("close", ended);
    const before = pipeline.previous;
    pipeline.previous = res;
    if (before === undefined || before.closed) return true;
    return new Promise<boolean>((resolve) => {
      before.once("close", () => resolve(!pipeline.closes && !socket.destroyed));
    });
  }

  // Without a listener Node drops a CONNECT with zero bytes (a proxy in front says 502).
  // Node has let go of the socket: closing it is ours to do. A client may keep its side open
  // after the 405, and close() and closeAllConnections() do not see such a socket, yet
  // server.close() waits for it: it is destroyed a second after the 405, and at close.
  const handedOver = new Set<Socket>();
  server.on("connect", (_req, socket: Socket) => {
    handedOver.add(socket);
    socket.once("close", () => handedOver.delete(socket));
    socket.on("error", () => socket.destroy()); // a reset is ours to take
    void rawResponse(refuseConnect()).then((bytes) =>
      socket.end(bytes, () => setTimeout(() => socket.destroy(), HANDED_OVER_LINGER_MS).unref()),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const listening = () => {
      server.off("error", reject);
      resolve();
    };
    if (target.kind === "unix") server.listen(target.path, listening);
    else if (target.kind === "tcp") server.listen(target.port, target.host, listening);
    else server.listen({ fd: target.fd }, listening);
  });

  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? (bound as AddressInfo).port : undefined;
  return {
    address: formatAddress(target.kind === "unix" ? target.path : bound),
    port: transport === "tcp" ? port : undefined,
    async close(timeoutMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A connection part-way through its request head is not idle to Node: it would hold close()
      // until headersTimeout. Once no request is in flight, what is left is cut.
      const forced = await raceTimeout(Promise.race([closed, requests.settled()]), timeoutMs);
      server.closeAllConnections();
      for (const socket of handedOver) socket.destroy();
      await closed;
      return { forced };
    },
    abort() {
      server.closeAllConnections();
      for (const socket of handedOver) socket.destroy();
      server.close();
    },
  };
}

/** A Response as HTTP/1.1 bytes for a socket Node's HTTP layer has let go of; the connection closes after. */
async function rawResponse(response: Response): Promise<Buffer> {
  const body = Buffer.from(await response.arrayBuffer());
  const lines = [
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}`,
    `Date: ${new Date().toUTCString()}`,
  ];
  for (const [name, value] of response.headers)
    if (!/^(connection|content-length|transfer-encoding|date)$/i.test(name)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`, "Connection: close");
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

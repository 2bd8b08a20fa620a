// Node adapter: @hono/node-server's node:http server on a socket path, [host]:port or an
// inherited fd. Deno uses it too for a systemd socket, since Deno.serve cannot take an fd.
import type { AddressInfo } from "node:net";
import { createAdaptorServer, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import type { Server } from "node:http";
import { formatHost, raceTimeout } from "./shared.ts";
import type { Adapter, Handler, Listener, ListenOptions } from "./types.ts";

const HEADERS_TIMEOUT_MS = 12_000;

export const nodeAdapter: Adapter = {
  runtime: "node",
  listen: ({ target, handler, idleTimeoutSeconds }) => listenNodeHttp(target, handler, idleTimeoutSeconds),
};

export async function listenNodeHttp(target: ListenOptions["target"], handler: Handler, idleTimeoutSeconds?: number): Promise<Listener> {
  const transport = target.kind === "tcp" ? "tcp" : "unix";
  const server = createAdaptorServer({
    // The URL's host when a request has no Host header (HTTP/1.0), as Bun and Deno serve those too.
    hostname: "localhost",
    // Unfinished request headers are cut after 12 s, as Bun does (Node's default is 60 s, looked
    // at every 30 s, so a stalled client could hold a connection for 90 s).
    serverOptions: { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS * 2, connectionsCheckingInterval: 1000 },
    fetch: (request: Request, env: HttpBindings | Http2Bindings) => {
      // An inherited socket may be TCP too; the socket itself says which.
      const remoteAddress = env.incoming.socket.remoteAddress;
      return handler(request, remoteAddress === undefined ? { transport: "unix" } : { transport: "tcp", remoteAddress });
    },
  }) as Server;
  // IDLE_TIMEOUT: how long an idle keep-alive connection is kept (Node's default is 5 s; 0 = never).
  if (idleTimeoutSeconds !== undefined) server.keepAliveTimeout = idleTimeoutSeconds * 1000;

  // close() alone lets a keep-alive connection linger for its 5 s timeout once idle. While
  // closing, each connection is closed as soon as its last request ends.
  let closing = false;
  server.on("request", (_req, res) => {
    res.once("finish", () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
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
    address: describeAddress(target, bound),
    port: transport === "tcp" ? port : undefined,
    async close(timeoutMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const forced = await raceTimeout(closed, timeoutMs);
      if (forced) server.closeAllConnections();
      return { forced };
    },
    abort() {
      server.closeAllConnections();
      server.close();
    },
  };
}

function describeAddress(target: ListenOptions["target"], bound: string | AddressInfo | null): string {
  if (target.kind === "unix") return target.path;
  if (bound !== null && typeof bound === "object") return `http://${formatHost(bound.address)}:${bound.port}`;
  return typeof bound === "string" ? bound : "a Unix socket";
}

export default nodeAdapter;

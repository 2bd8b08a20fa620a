// Bun adapter: Bun.serve on { unix } or { hostname, port }.
import { formatAddress, InFlight, raceTimeout, refuseConnect, UNIX_CONN } from "./shared.ts";
import { type Adapter, type Listener, type ListenOptions, UnsupportedError } from "../../types.ts";

/** An HTTP/1.0 request without Host reaches the handler as a bare path, which URL parsers reject. */
function withAbsoluteUrl(request: Request): Request {
  return request.url.startsWith("/") ? new Request(new URL(request.url, "http://localhost"), request) : request;
}

/**
 * Bun closes the connection after every HTTP/1.0 request, even one that asked for keep-alive, and
 * after a client's Connection: close, but says so in neither response. Without the header a proxy
 * that asked for keep-alive (HAProxy does for HTTP/1.0 clients) reuses a connection Bun is closing
 * and loses the request. Bun does not tell the handler the HTTP version, so HTTP/1.0 is known by
 * what it sends: Connection: keep-alive (HTTP/1.1 needs no such header), or no Host at all (a bare
 * path). Pinned by test/conformance.test.ts; docs/runtime-issues.md has the reproduction.
 */
function closesAfter(request: Request): boolean {
  if (request.url.startsWith("/")) return true;
  const connection = request.headers.get("connection");
  return connection !== null && /close|keep-alive/i.test(connection);
}

function sayClose(response: Response): Response {
  response.headers.set("Connection", "close");
  return response;
}

export default {
  runtime: "bun",
  async listen({ target, handler, idleTimeoutSeconds, log }: ListenOptions): Promise<Listener> {
    if (target.kind === "systemd") {
      // Bun.serve({ fd }) and node:http listen({ fd }) in Bun ignore the fd and bind elsewhere.
      throw new UnsupportedError(
        "Bun cannot serve on a socket passed by systemd (LISTEN_FDS): it would ignore the socket and listen somewhere else. Run printerfacts under Node or Deno for socket activation, or drop the .socket unit and set SOCKPATH",
      );
    }
    const transport = target.kind;
    const requests = new InFlight();
    const counted = requests.wrap(handler);
    const where = target.kind === "unix" ? { unix: target.path } : { hostname: target.host, port: target.port };
    // maxRequestBodySize stays Bun's: MAX_BODY is the app's bodyLimit, the same on every runtime.
    const server = Bun.serve({
      // Typed as TCP because bun-types allow idleTimeout only there; Bun applies it on Unix
      // sockets too (measured by scripts/timeouts.ts).
      ...(where as { hostname: string; port: number }),
      idleTimeout: idleTimeoutSeconds,
      // Bun turns SO_REUSEPORT on whenever development is false: a second instance on a taken port
      // would listen beside the first and split its connections, instead of failing (EADDRINUSE).
      reusePort: false,
      // Never Bun's development error page, which shows source code, whatever NODE_ENV says.
      development: false,
      // The app answers its own errors (a 500 with the request id); this catches what escapes it.
      error(err) {
        log.error(`request failed outside the app: ${err.stack ?? err}`);
        return new Response("internal error\n", {
          status: 500,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        });
      },
      fetch(request, srv) {
        // Bun keeps a connection that sent CONNECT as a tunnel nobody reads: the next request on
        // it is never answered. Connection: close makes Bun close it instead.
        if (request.method === "CONNECT") return refuseConnect();
        const conn = transport === "unix" ? UNIX_CONN : { transport, remoteAddress: srv.requestIP(request)?.address };
        if (!closesAfter(request)) return counted(request, conn);
        const response = counted(withAbsoluteUrl(request), conn);
        return response instanceof Promise ? response.then(sayClose) : sayClose(response);
      },
    });
    // The compiled binary starts with the JIT held back (--compile-jit-policy in package.json's
    // build), so code that runs only once at start is interpreted rather than compiled. Serving
    // from here on gets the normal policy.
    Bun.unsafe.setJITPolicy(1);
    return {
      address: formatAddress(target.kind === "unix" ? target.path : { address: target.host, port: server.port }),
      port: target.kind === "tcp" ? server.port : undefined,
      async close(timeoutMs) {
        // stop() without force closes idle connections, but waits for every other one, even one
        // that will never send a whole request. So: until stop() is done or no request is in
        // flight, then the rest is cut.
        const forced = await raceTimeout(Promise.race([server.stop(false), requests.settled()]), timeoutMs);
        await server.stop(true);
        return { forced };
      },
      abort() {
        void server.stop(true);
      },
    };
  },
} satisfies Adapter;

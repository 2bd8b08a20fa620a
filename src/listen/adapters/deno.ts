// Deno adapter: Deno.serve on { path, transport: "unix" } or { hostname, port }. Deno.serve cannot
// take an inherited fd, so a systemd socket goes through the Node adapter (Deno's node:http can).
import { formatAddress, InFlight, raceTimeout, refuseConnect, UNIX_CONN } from "./shared.ts";
import type { Adapter, ConnInfo, Listener } from "../../types.ts";

/** The part of Deno's API used here (the project is type-checked with Bun's and Node's types). */
declare const Deno: {
  serve(
    options: ({ path: string; transport: "unix" } | { hostname: string; port: number }) & { onListen?: () => void },
    handler: (
      request: Request,
      info: { remoteAddr: { transport: string; hostname?: string } },
    ) => Response | Promise<Response>,
  ): { addr: { port?: number }; finished: Promise<void>; shutdown(): Promise<void> };
};

/**
 * Deno writes a handler's Connection: close but keeps the connection and serves the next request
 * on it (RFC 9112, 9.6 says it must close). The header is dropped so the response does not say
 * what will not happen. Pinned by test/conformance.test.ts; docs/runtime-issues.md has the repro.
 */
function keptOpen(response: Response): Response {
  // Only refusals (400, 413) say it; a success is not searched, since each header read costs.
  if (response.status >= 400 && response.headers.has("connection")) response.headers.delete("connection");
  return response;
}

/** The shared Unix ConnInfo, and Deno.serve refuses two Host headers itself (conformance.test.ts). */
const DENO_UNIX_CONN: ConnInfo = Object.freeze({ ...UNIX_CONN, refusesDuplicateHost: true });

/** Said once per process, not once per listener (the metrics listener comes through here too). */
let toldNoTimeouts = false;

export default {
  runtime: "deno",
  // Deno.serve takes no timeouts: IDLE_TIMEOUT applies only to a systemd socket (node:http).
  // Serving everything through Deno's node:http instead would cost most of the throughput
  // (docs/reliability.md), so the operator is told instead.
  async listen({ target, handler, idleTimeoutSeconds, log }): Promise<Listener> {
    if (target.kind === "systemd") {
      // Loaded only here: node:http and @hono/node-server would otherwise weigh on every Deno start.
      const { listenNodeHttp } = await import("./node.ts");
      return listenNodeHttp(target, handler, idleTimeoutSeconds);
    }
    const requests = new InFlight();
    const counted = requests.wrap(handler);
    const server = Deno.serve(
      {
        ...(target.kind === "unix"
          ? { path: target.path, transport: "unix" as const }
          : { hostname: target.host, port: target.port }),
        onListen: () => {}, // Deno would print "Listening on ..." to stdout; server.ts logs instead.
      },
      (request, info) => {
        // CONNECT: the same refusal as on Bun and Node (Deno itself would let it be routed).
        if (request.method === "CONNECT") return refuseConnect({ close: false });
        // Each read of info.remoteAddr asks Deno for it again: only TCP has an address to tell.
        const response = counted(
          request,
          target.kind === "unix"
            ? DENO_UNIX_CONN
            : { transport: "tcp", remoteAddress: info.remoteAddr.hostname, refusesDuplicateHost: true },
        );
        return response instanceof Promise ? response.then(keptOpen) : keptOpen(response);
      },
    );
    if (idleTimeoutSeconds && !toldNoTimeouts) {
      toldNoTimeouts = true;
      log.warn(
        `IDLE_TIMEOUT=${idleTimeoutSeconds} is not applied: Deno.serve cannot time out connections, so a stalled or idle client keeps its connection until it closes it. Keep nginx in front (then it is the only client), run under Bun or Node, or set IDLE_TIMEOUT=0 to say no timeout is wanted`,
      );
    }
    const port = target.kind === "tcp" ? server.addr.port : undefined;
    // Deno.serve ends its accept loop on the first failed accept (EMFILE, ENFILE), closes the
    // listener and cuts its connections, and rejects `finished`; unhandled, that rejection would
    // exit the process. server.ts binds again instead. docs/runtime-issues.md has the reproduction.
    const failed = server.finished.then(
      () => new Promise<Error>(() => {}),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    return {
      failed,
      address: formatAddress(target.kind === "unix" ? target.path : { address: target.host, port }),
      port,
      async close(timeoutMs) {
        // shutdown() stops accepting, closes idle connections and resolves when in-flight ones end,
        // but a request whose body is still arriving then fails to read it (BadResource, a 500):
        // so the requests in flight now are let finish first. shutdown() also waits for a
        // connection that has not sent a whole request, and Deno has no way to cut connections:
        // once no request is in flight (or time runs out), the process exit does it.
        const started = Date.now();
        const forced = await raceTimeout(requests.current(), timeoutMs);
        const rest = Math.max(0, timeoutMs - (Date.now() - started));
        return { forced: forced || (await raceTimeout(Promise.race([server.shutdown(), requests.settled()]), rest)) };
      },
      abort() {
        // Deno cannot cut connections; the caller exits the process next, which does.
        void server.shutdown();
      },
    };
  },
} satisfies Adapter;

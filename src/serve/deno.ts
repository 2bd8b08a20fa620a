// Deno adapter: Deno.serve on { path, transport: "unix" } or { hostname, port }. Deno.serve cannot
// take an inherited fd, so a systemd socket goes through the Node adapter (Deno's node:http can).
import { listenNodeHttp } from "./node.ts";
import { formatHost, raceTimeout } from "./shared.ts";
import type { Adapter, Listener } from "./types.ts";

/** The part of Deno's API used here (the project is type-checked with Bun's and Node's types). */
declare const Deno: {
  serve(
    options: ({ path: string; transport: "unix" } | { hostname: string; port: number }) & { onListen?: () => void },
    handler: (request: Request, info: { remoteAddr: { transport: string; hostname?: string } }) => Response | Promise<Response>,
  ): { addr: { port?: number }; finished: Promise<void>; shutdown(): Promise<void> };
};

/** Said once per process, not once per listener (the metrics listener comes through here too). */
let toldNoTimeouts = false;

export const denoAdapter: Adapter = {
  runtime: "deno",
  // Deno.serve takes no timeouts: IDLE_TIMEOUT applies only to a systemd socket (node:http).
  // Serving everything through Deno's node:http instead would cost most of the throughput
  // (a bare handler: 70k requests/s against 345k), so the operator is told instead.
  async listen({ target, handler, idleTimeoutSeconds, log }): Promise<Listener> {
    if (target.kind === "systemd") return listenNodeHttp(target, handler, idleTimeoutSeconds);
    const server = Deno.serve(
      {
        ...(target.kind === "unix" ? { path: target.path, transport: "unix" as const } : { hostname: target.host, port: target.port }),
        onListen: () => {}, // Deno would print "Listening on ..." to stdout; server.ts logs instead.
      },
      (request, info) =>
        handler(request, info.remoteAddr.transport === "tcp" ? { transport: "tcp", remoteAddress: info.remoteAddr.hostname } : { transport: "unix" }),
    );
    if (idleTimeoutSeconds && !toldNoTimeouts) {
      toldNoTimeouts = true;
      log.warn(
        `IDLE_TIMEOUT=${idleTimeoutSeconds} is not applied: Deno.serve cannot time out connections, so a stalled or idle client keeps its connection until it closes it. Keep nginx in front (then it is the only client), run under Bun or Node, or set IDLE_TIMEOUT=0 to say no timeout is wanted`,
      );
    }
    const port = target.kind === "tcp" ? server.addr.port : undefined;
    return {
      address: target.kind === "unix" ? target.path : `http://${formatHost(target.host)}:${port}`,
      port,
      async close(timeoutMs) {
        // shutdown() stops accepting, closes idle connections and resolves when in-flight ones end.
        // Deno has no way to cut connections: when time runs out, the process exit does it.
        const forced = await raceTimeout(server.shutdown(), timeoutMs);
        return { forced };
      },
      abort() {
        // Deno cannot cut connections; the caller exits the process next, which does.
        void server.shutdown();
      },
    };
  },
};

export default denoAdapter;

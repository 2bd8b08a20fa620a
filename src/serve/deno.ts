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

export const denoAdapter: Adapter = {
  runtime: "deno",
  // Deno.serve takes no timeouts: IDLE_TIMEOUT applies only to a systemd socket (node:http).
  async listen({ target, handler, idleTimeoutSeconds }): Promise<Listener> {
    if (target.kind === "systemd") return listenNodeHttp(target, handler, idleTimeoutSeconds);
    const server = Deno.serve(
      {
        ...(target.kind === "unix" ? { path: target.path, transport: "unix" as const } : { hostname: target.host, port: target.port }),
        onListen: () => {}, // Deno would print "Listening on ..." to stdout; server.ts logs instead.
      },
      (request, info) =>
        handler(request, info.remoteAddr.transport === "tcp" ? { transport: "tcp", remoteAddress: info.remoteAddr.hostname } : { transport: "unix" }),
    );
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

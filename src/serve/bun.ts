// Bun adapter: Bun.serve on { unix } or { hostname, port }.
import { formatHost, raceTimeout } from "./shared.ts";
import { type Adapter, type Listener, type ListenOptions, UnsupportedError } from "./types.ts";

export const bunAdapter: Adapter = {
  runtime: "bun",
  async listen({ target, handler }: ListenOptions): Promise<Listener> {
    if (target.kind === "systemd") {
      // Bun.serve({ fd }) and node:http listen({ fd }) in Bun ignore the fd and bind elsewhere.
      throw new UnsupportedError(
        "Bun cannot serve on a socket passed by systemd (LISTEN_FDS): it would ignore the socket and listen somewhere else. Run printerfacts under Node or Deno for socket activation, or drop the .socket unit and set SOCKPATH",
      );
    }
    const transport = target.kind;
    const server = Bun.serve({
      ...(target.kind === "unix" ? { unix: target.path } : { hostname: target.host, port: target.port }),
      fetch(request, srv) {
        return handler(request, {
          transport,
          remoteAddress: transport === "tcp" ? srv.requestIP(request)?.address : undefined,
        });
      },
    });
    return {
      address: target.kind === "unix" ? target.path : `http://${formatHost(target.host)}:${server.port}`,
      port: target.kind === "tcp" ? server.port : undefined,
      async close(timeoutMs) {
        // stop() without force closes idle connections and resolves when in-flight ones end.
        const forced = await raceTimeout(server.stop(false), timeoutMs);
        if (forced) await server.stop(true);
        return { forced };
      },
      abort() {
        void server.stop(true);
      },
    };
  },
};


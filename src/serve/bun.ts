// Bun adapter: Bun.serve on { unix } or { hostname, port }.
import type { Adapter, Listener, ListenOptions } from "./types.ts";

export const bunAdapter: Adapter = {
  runtime: "bun",
  async listen({ target, handler }: ListenOptions): Promise<Listener> {
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
        const drained = server.stop(false).then(() => false);
        const timedOut = new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, true).unref());
        const forced = await Promise.race([drained, timedOut]);
        if (forced) await server.stop(true);
        return { forced };
      },
      abort() {
        void server.stop(true);
      },
    };
  },
};

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

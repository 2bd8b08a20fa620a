// Wires the app to a listener: socket safety for SOCKPATH, then graceful shutdown on signals.
// Runtime-neutral: the adapter is the only part that differs between Bun, Node and Deno.
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { loadAdapter } from "./serve/index.ts";
import type { Handler, Listener } from "./serve/types.ts";
import { bindSocket, inspectSocketPath, resolveGroup, type SocketIdentity, unlinkIfOurs, worldWritableWarning } from "./socket.ts";

/**
 * After SOCKPATH is unlinked no new client can connect, but some may already wait in the
 * kernel's accept queue; Bun's stop() resets those. A short pause lets the loop accept them.
 */
const ACCEPT_QUEUE_GRACE_MS = 100;

export interface RunningServer {
  listener: Listener;
  /** Drain and close; resolves to true if the drain had to be cut short. */
  shutdown(reason: string): Promise<boolean>;
}

export async function startServer(config: Config, handler: Handler, log: Logger): Promise<RunningServer> {
  const adapter = await loadAdapter();
  const target = config.listen;
  const limits = { idleTimeoutSeconds: config.idleTimeoutSeconds };

  let listener: Listener;
  let owned: { path: string; identity: SocketIdentity } | undefined;
  if (target.kind === "unix") {
    const gid = config.socket.group === undefined ? undefined : resolveGroup(config.socket.group);
    const warning = worldWritableWarning(target.path);
    if (warning) log.warn(warning);
    const state = await inspectSocketPath(target.path);
    const bound = await bindSocket(
      target.path,
      { ...config.socket, gid, replaceStale: state === "stale" },
      (privatePath) => adapter.listen({ target: { kind: "unix", path: privatePath }, handler, ...limits }),
      log,
    );
    listener = bound.listener;
    owned = { path: target.path, identity: bound.identity };
    log.info(`listening on unix:${target.path} (mode ${config.socket.mode.toString(8).padStart(4, "0")}${gid === undefined ? "" : `, group ${gid}`}) with ${adapter.runtime}`);
  } else {
    listener = await adapter.listen({ target, handler, ...limits });
    log.info(`listening on ${listener.address} with ${adapter.runtime}`);
  }

  return {
    listener,
    async shutdown(reason) {
      log.info(`${reason}: shutting down, draining for up to ${config.shutdownTimeoutMs / 1000}s`);
      if (owned) {
        // Take the path out of view first: new clients fail fast instead of queueing.
        if (unlinkIfOurs(owned.path, owned.identity)) log.info(`removed socket ${owned.path}`);
        else log.warn(`${owned.path} is no longer the socket we bound; left it in place`);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_QUEUE_GRACE_MS));
      }
      const { forced } = await listener.close(config.shutdownTimeoutMs);
      if (forced) log.warn(`drain timed out after ${config.shutdownTimeoutMs / 1000}s; cut the remaining connections`);
      else log.info("all requests finished");
      return forced;
    },
  };
}

/**
 * SIGTERM/SIGINT: drain, then exit 0. A second signal during the drain cuts every connection and
 * exits at once.
 */
export function exitOnSignals(server: RunningServer, log: Logger) {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now without waiting for requests`);
      server.listener.abort();
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    server.shutdown(signal).then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err) => {
        log.error(`shutdown failed: ${err?.stack ?? err}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

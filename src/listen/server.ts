// Wires the app to its listeners (the main one and, if asked for, a metrics-only one): socket
// safety for SOCKPATH and METRICS_SOCKPATH alike, then graceful shutdown on signals.
// Runtime-neutral: the adapter is the only part that differs between Bun, Node and Deno.
import type { Config, ListenerConfig, ListenerName } from "../config.ts";
import { adapter as runtime } from "./adapters/index.ts";
import type { Adapter, Handler, Listener, Logger } from "../types.ts";
import { formatHost } from "./adapters/shared.ts";
import { EXIT } from "../cli/exit.ts";
import {
  bindSocket,
  inspectSocketPath,
  resolveGroup,
  type SocketIdentity,
  unlinkIfOurs,
  watchSocket,
  worldWritableWarning,
} from "./socket.ts";

/**
 * After SOCKPATH is unlinked no new client can connect, but some may already wait in the
 * kernel's accept queue; Bun's stop() resets those. A short pause lets the loop accept them.
 */
const ACCEPT_QUEUE_GRACE_MS = 100;

/** How far past SHUTDOWN_TIMEOUT a listener may take to close before shutdown stops waiting for it. */
const CLOSE_GRACE_MS = 500;

/** How often a lost listener is bound again, and its socket file looked at (asynchronously). */
const REBIND_EVERY_MS = 1000;
const SOCKET_CHECK_EVERY_MS = 1000;
const RECOVERED_MS = 2000;

export interface RunningServer {
  /** The main listener. */
  listener: Listener;
  /** Drain and close every listener; resolves to true if the drain had to be cut short. */
  shutdown(reason: string): Promise<boolean>;
  /** Cut every connection of every listener now. */
  abort(): void;
  /** Resolves, with a line saying why, if a socket file of ours is removed or replaced while serving. */
  lost: Promise<string>;
}

/** What each listener serves: `metrics` is needed when the config has a metrics listener. */
export type Handlers = { [name in ListenerName]?: Handler } & { main: Handler };

interface Bound {
  listener: Listener;
  /** Our socket at its public path, removed on shutdown if it is still ours. */
  owned?: { path: string; identity: SocketIdentity };
  /** For the log: where and how it listens. */
  description: string;
  /** Stops watching the socket file. */
  unwatch?: () => void;
  /** Listeners the runtime stopped accepting on, whose connections are still served: drained too. */
  retired?: Listener[];
}

/** A bound listener and those it replaced but still drains. */
const listenersOf = (b: Bound): Listener[] => [b.listener, ...(b.retired ?? [])];

/** Startup refused because the TCP address asked for cannot be listened on. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** What the usual listen(2) failures mean, by the code Bun, Node and Deno all give them. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: "another process is listening there",
  EACCES: "permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)",
  EADDRNOTAVAIL: "that address is not one of this machine's",
};

/** One line that names the variables to change, instead of the runtime's stack trace. */
function listenError(err: unknown, target: { host: string; port: number }, prefix: string): ListenError {
  const code = (err as { code?: unknown })?.code;
  const why =
    (typeof code === "string" && LISTEN_FAILURES[code]) || String((err as Error)?.message ?? err).split("\n")[0];
  return new ListenError(
    `cannot listen on ${formatHost(target.host)}:${target.port} (${prefix}HOST=${target.host} ${prefix}PORT=${target.port}): ${why}`,
  );
}

/** One listener, main or metrics, with the same socket safety (socket.ts) for either. */
async function bind(adapter: Adapter, config: ListenerConfig, handler: Handler, log: Logger): Promise<Bound> {
  const { target, prefix } = config;
  if (target.kind === "tcp") {
    const listener = await adapter.listen({ target, handler, log }).catch((err) => {
      throw listenError(err, target, prefix);
    });
    return { listener, description: listener.address };
  }
  if (target.kind === "systemd") {
    // systemd made the socket and keeps it: no stale checks, no permissions to set, no unlink on exit.
    const listener = await adapter.listen({ target, handler, log });
    return { listener, description: `the socket systemd passed (fd ${target.fd}, ${listener.address})` };
  }
  const gid = target.group === undefined ? undefined : await resolveGroup(target.group, `${prefix}SOCKGROUP`);
  const state = await inspectSocketPath(target.path);
  const warning = worldWritableWarning(target.path);
  if (warning) log.warn(warning);
  const bound = await bindSocket(
    target.path,
    { mode: target.mode, gid, replaceStale: state === "stale" },
    (privatePath) => adapter.listen({ target: { kind: "unix", path: privatePath }, handler, log }),
    log,
  );
  return {
    listener: bound.listener,
    owned: { path: target.path, identity: bound.identity },
    description: `unix:${target.path} (mode ${target.mode.toString(8).padStart(4, "0")}${gid === undefined ? "" : `, group ${gid}`})`,
  };
}

export async function startServer(config: Config, handlers: Handlers, log: Logger): Promise<RunningServer> {
  // Every listener gets the connection limits from the config (IDLE_TIMEOUT).
  const adapter: Adapter = {
    runtime: runtime.runtime,
    listen: (options) => runtime.listen({ ...options, idleTimeoutSeconds: config.idleTimeoutSeconds }),
  };

  // The metrics listener comes up first, so that "listening on" means everything is up.
  let metrics: Bound | undefined;
  if (config.metrics) {
    if (!handlers.metrics) throw new Error("the config has a metrics listener, but no handler for it was given");
    metrics = await bind(adapter, config.metrics, handlers.metrics, log);
    log.info(`serving /metrics only on ${metrics.description}`);
  }
  let main: Bound;
  try {
    main = await bind(adapter, config.main, handlers.main, log);
  } catch (err) {
    if (metrics) await closeAll([metrics], 0);
    throw err;
  }
  // Announce on the next turn of the event loop, after the caller has installed its signal
  // handlers (exitOnSignals, as soon as this resolves): whoever waits for this line may send
  // SIGTERM at once, and without a handler that signal would kill the process undrained.
  setImmediate(() => log.info(`listening on ${main.description} with ${adapter.runtime}`));
  const all = metrics ? [main, metrics] : [main];

  let stopping: Promise<boolean> | undefined;
  let reportLost: (why: string) => void = () => {};
  const lost = new Promise<string>((resolve) => {
    reportLost = resolve;
  });

  /** Our socket file removed or replaced: say so once, naming the path; the caller drains and exits. */
  const watch = (b: Bound) => {
    const owned = b.owned;
    if (!owned) return;
    b.unwatch = watchSocket(
      owned.path,
      owned.identity,
      (what) => {
        if (stopping) return;
        const why = `${owned.path} is ${what === "nothing" ? "gone (removed while serving)" : `now ${what}, not the socket we bound`}: no new client can reach this process`;
        log.error(`${why}; draining and exiting with status ${EXIT.socketLost} to be started again`);
        reportLost(`${owned.path} lost`);
      },
      SOCKET_CHECK_EVERY_MS,
    );
  };

  /**
   * The runtime stopped accepting (Deno on EMFILE): bind the same listener again, every second
   * until it works. Logged once per episode: while descriptors stay short the new listener may
   * fail again at the next connection, so "serving again" waits until one has lasted RECOVERED_MS.
   */
  const supervise = (b: Bound, target: ListenerConfig, handler: Handler) => {
    let failures = 0;
    let recovered: ReturnType<typeof setTimeout> | undefined;
    const quiet: Logger = { ...log, info: () => {} }; // no "removed stale socket" at every attempt
    const onFailed = async (err: Error) => {
      if (stopping) return;
      b.unwatch?.();
      clearTimeout(recovered);
      if (failures++ === 0)
        log.error(
          `${adapter.runtime} stopped accepting connections on ${b.description}: ${err.message.split("\n")[0]}; new connections are refused until it is bound again`,
        );
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, REBIND_EVERY_MS));
        if (stopping) return;
        try {
          const fresh = await bind(adapter, target, handler, quiet);
          if (stopping) {
            fresh.listener.abort();
            return;
          }
          const retired = [...(b.retired ?? []), b.listener];
          Object.assign(b, fresh, { retired });
          watch(b);
          b.listener.failed?.then(onFailed);
          recovered = setTimeout(() => {
            log.info(
              `serving again on ${b.description} (its accept loop had ended ${failures === 1 ? "once" : `${failures} times`})`,
            );
            failures = 0;
          }, RECOVERED_MS);
          recovered.unref?.();
          return;
        } catch {
          // Still short of descriptors, most likely: try again in a second.
        }
      }
    };
    b.listener.failed?.then(onFailed);
  };

  for (const b of all) watch(b);
  supervise(main, config.main, handlers.main);
  if (metrics && config.metrics && handlers.metrics) supervise(metrics, config.metrics, handlers.metrics);

  const run = async (reason: string) => {
    for (const b of all) b.unwatch?.();
    log.info(`${reason}: shutting down, draining for up to ${config.shutdownTimeoutMs / 1000}s`);
    // A hard bound: whatever a runtime's close() waits for, shutdown goes on shortly after the timeout.
    const forced = await Promise.race([
      closeAll(all, config.shutdownTimeoutMs, log),
      new Promise<"stuck">((resolve) =>
        setTimeout(resolve, config.shutdownTimeoutMs + ACCEPT_QUEUE_GRACE_MS + CLOSE_GRACE_MS, "stuck").unref?.(),
      ),
    ]);
    if (forced === "stuck")
      log.warn(`a listener was still closing ${CLOSE_GRACE_MS} ms after the drain timed out; exiting anyway`);
    else if (forced)
      log.warn(`drain timed out after ${config.shutdownTimeoutMs / 1000}s; cut the remaining connections`);
    else log.info("all requests finished");
    return forced !== false;
  };

  return {
    get listener() {
      return main.listener;
    },
    shutdown(reason) {
      stopping ??= run(reason);
      return stopping;
    },
    abort() {
      for (const listener of all.flatMap(listenersOf)) listener.abort();
    },
    lost,
  };
}

/** Remove our sockets first, then drain every listener at once; true if a drain was cut short. */
async function closeAll(listeners: Bound[], timeoutMs: number, log?: Logger): Promise<boolean> {
  const owned = listeners.flatMap((b) => (b.owned ? [b.owned] : []));
  for (const { path, identity } of owned) {
    // Take the path out of view first: new clients fail fast instead of queueing.
    const unlinked = unlinkIfOurs(path, identity);
    if (unlinked === "removed") log?.info(`removed socket ${path}`);
    else if (unlinked === "gone") log?.warn(`${path} was already gone; nothing to remove`);
    else log?.warn(`${path} is no longer the socket we bound (something else is there now); left it in place`);
  }
  if (owned.length > 0) await new Promise((resolve) => setTimeout(resolve, ACCEPT_QUEUE_GRACE_MS));
  const results = await Promise.all(listeners.flatMap(listenersOf).map((listener) => listener.close(timeoutMs)));
  return results.some((r) => r.forced);
}

/**
 * SOCKPATH removed or replaced: drain what is in flight, then exit with EXIT.socketLost (75) so that
 * the service manager starts it again (a signal meanwhile exits as signals do).
 */
export function exitWhenSocketLost(
  server: RunningServer,
  log: Logger,
  beforeExit: () => Promise<void> = async () => {},
) {
  void server.lost.then(async (reason) => {
    try {
      await server.shutdown(reason);
    } catch (err) {
      log.error(`shutdown failed: ${(err as Error)?.stack ?? err}`);
    }
    beforeExit().finally(() => process.exit(EXIT.socketLost));
  });
}

/**
 * SIGTERM, SIGINT and SIGQUIT (nginx's graceful stop): drain, then exit 0. A second one during the
 * drain cuts every connection and exits at once. Before exiting, `beforeExit` lets the queued log
 * lines out, for a bounded time (line-writer.ts's flushAll). See docs/reliability.md.
 */
export function exitOnSignals(server: RunningServer, log: Logger, beforeExit: () => Promise<void> = async () => {}) {
  let stopping = false;
  let aborting = false;
  const exit = (code: number) => beforeExit().finally(() => process.exit(code));
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (SIGNAL_NUMBERS[signal] ?? 15);
    if (aborting) process.exit(code); // a third: not even the log lines
    if (stopping) {
      aborting = true;
      log.warn(`${signal} again: exiting now without waiting for requests`);
      server.abort();
      exit(code);
      return;
    }
    stopping = true;
    server.shutdown(signal).then(
      () => {
        log.info("stopped");
        return exit(0);
      },
      (err) => {
        log.error(`shutdown failed: ${err?.stack ?? err}`);
        return exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("SIGQUIT", onSignal);
}

/**
 * SIGHUP, SIGUSR1 and SIGUSR2 would end the process undrained, leaving its socket behind (and
 * SIGUSR1 opens Node's inspector on 127.0.0.1:9229): each is logged and ignored, except the one
 * `--watch-kill-signal` names (npm run dev), which says a reload is coming. Called before the
 * listeners are bound, so that a start in progress is not killed either.
 */
export function ignoreStraySignals(log: Logger) {
  const reload = watchKillSignal();
  for (const [signal, message] of Object.entries(IGNORED)) {
    if (signal !== reload) process.on(signal, () => log.warn(message));
  }
  if (reload) process.on(reload, () => log.info(`${reload}: a watched file changed, reloading (--watch)`));
}

/**
 * The signal `--watch-kill-signal` names (npm run dev passes SIGUSR2): Bun runs its handlers just
 * before it re-executes the process on a file change. With the default, SIGTERM, a reload would
 * read "SIGTERM: shutting down"; a signal of its own tells the two apart.
 */
function watchKillSignal(): NodeJS.Signals | undefined {
  for (const arg of process.execArgv) {
    const signal = arg.match(/^--watch-kill-signal=(SIG[A-Z0-9]+)$/)?.[1];
    if (signal && signal !== "SIGTERM" && signal !== "SIGINT") return signal as NodeJS.Signals;
  }
  return undefined;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/** Signals with no job here, and the line each gets when it comes. */
const IGNORED: Partial<Record<NodeJS.Signals, string>> = {
  SIGHUP: "SIGHUP ignored: there is no configuration to reload; restart the service to apply changes, SIGTERM stops it",
  SIGUSR1:
    runtime.runtime === "deno"
      ? "SIGUSR1: Deno opens its inspector on 127.0.0.1:9229 on this signal and cannot be told not to (see docs/runtime-issues.md); restart the service to close it"
      : "SIGUSR1 ignored: it has no meaning here, and opens no inspector",
  SIGUSR2: "SIGUSR2 ignored: it has no meaning here",
};

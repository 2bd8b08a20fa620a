// Small helpers every adapter uses.
import type { ConnInfo, Handler } from "../../types.ts";

/** An IPv6 address goes in brackets in a URL. */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Listener.address: a socket's path as it is, a TCP address as http://host:port; null is a socket
 * systemd passed that has no path to tell (Node's server.address() for a Unix one).
 */
export function formatAddress(bound: string | { address: string; port?: number } | null): string {
  if (typeof bound === "string") return bound;
  return bound === null ? "a Unix socket" : `http://${formatHost(bound.address)}:${bound.port}`;
}

/** A Unix socket's peer has no address to tell: one object serves every request on it. */
export const UNIX_CONN: ConnInfo = Object.freeze({ transport: "unix" });

/** Waits for `done` up to `timeoutMs`; resolves to true if the time ran out first. */
export function raceTimeout(done: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, true);
  });
  return Promise.race([done.then(() => false), timedOut]).finally(() => clearTimeout(timer));
}

/**
 * Counts the requests the app is answering. A drain waits for these, not for connections: an idle,
 * stalled or wedged connection has no request in flight and must not hold SIGTERM up.
 */
export class InFlight {
  private count = 0;
  private started = 0;
  private waiters: (() => void)[] = [];
  /** The responses still being produced by the wrapped handler, for current(). */
  private pending = new Set<Promise<Response>>();

  begin(): void {
    this.count++;
    this.started++;
  }

  end(): void {
    if (--this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /**
   * The handler, counted from its call until its response is settled. A response returned at once
   * is settled at once: it is only counted as started, which is all settled() needs to see of it.
   */
  wrap(handler: Handler): Handler {
    return (request, conn) => {
      this.started++;
      const result = handler(request, conn);
      if (!(result instanceof Promise)) return result;
      this.count++;
      const counted = result.finally(() => {
        this.pending.delete(counted);
        this.end();
      });
      this.pending.add(counted);
      return counted;
    };
  }

  /** Resolves once every request the wrapped handler is answering now has its response. */
  async current(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /**
   * Resolves once no request has been in flight for quietMs: long enough for the runtime to write
   * out the last response, short enough that what is left is only idle or wedged connections.
   */
  async settled(quietMs = QUIET_MS): Promise<void> {
    for (;;) {
      while (this.count > 0) await new Promise<void>((wake) => this.waiters.push(wake));
      const before = this.started;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      if (this.count === 0 && this.started === before) return;
    }
  }
}

/** How long a drain waits, once no request is in flight, before it cuts the connections left. */
export const QUIET_MS = 200;

/**
 * CONNECT asks an origin server to become a tunnel, which it is not: refused with 405 and closed,
 * the same on every runtime (Bun would otherwise keep the connection as a dead tunnel).
 */
export function refuseConnect({ close = true } = {}): Response {
  return new Response("method not allowed\n", {
    status: 405,
    headers: {
      Allow: "GET, HEAD",
      "Content-Type": "text/plain; charset=utf-8",
      ...(close ? { Connection: "close" } : {}),
    },
  });
}

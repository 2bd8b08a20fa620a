// The one interface every runtime adapter implements (one file per runtime, as in h3js/srvx).
// Adapters only bind and serve; socket safety and shutdown policy live above them, shared.
import type { ConnInfo } from "../app.ts";
import type { ListenTarget } from "../config.ts";

export type Handler = (request: Request, conn: ConnInfo) => Response | Promise<Response>;

export interface ListenOptions {
  /** For a Unix socket this is the private path socket.ts binds under, not SOCKPATH itself. */
  target: ListenTarget;
  handler: Handler;
  /** Close a connection after this many seconds without traffic, where the runtime can (IDLE_TIMEOUT). */
  idleTimeoutSeconds?: number;
}

export interface Listener {
  /** What was bound, for logs: the socket path or http://host:port with the real port. */
  readonly address: string;
  /** The TCP port actually bound (PORT=0 picks one); undefined on a socket. */
  readonly port?: number;
  /**
   * Stop accepting, close idle keep-alive connections, let in-flight requests finish for up to
   * timeoutMs, then cut what is left. Resolves once the listener is closed.
   */
  close(timeoutMs: number): Promise<{ forced: boolean }>;
  /** Cut every connection now (a second signal during the drain). */
  abort(): void;
}

/** The runtime cannot serve what was asked: refuse loudly rather than serve somewhere else. */
export class UnsupportedError extends Error {
  override name = "UnsupportedError";
}

export interface Adapter {
  readonly runtime: "bun" | "node" | "deno";
  listen(options: ListenOptions): Promise<Listener>;
}

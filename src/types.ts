// What the app, the adapters and the config share, owned here at the bottom so that types flow
// down: the one interface every runtime adapter implements (one file per runtime, as in
// h3js/srvx), what a listener is asked to listen on, and what the app is told about a connection.
// Adapters only bind and serve; socket safety and shutdown policy live above them, shared.

/** Where a listener listens (config.ts reads it from the environment). */
export type ListenTarget =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; host: string; port: number }
  /** A listening socket systemd opened and passed in (socket activation); systemd owns it. */
  | { kind: "systemd"; fd: number };

/** What a runtime adapter tells the app about the connection a request came in on. */
export interface ConnInfo {
  transport: "unix" | "tcp";
  /** The TCP peer's address; none over a Unix socket. */
  remoteAddress?: string;
}

/** Lifecycle lines (log.ts writes them); handed down by main.ts rather than imported. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type Handler = (request: Request, conn: ConnInfo) => Response | Promise<Response>;

export interface ListenOptions {
  /** For a Unix socket this is the private path socket.ts binds under, not SOCKPATH itself. */
  target: ListenTarget;
  handler: Handler;
  /** Close a connection after this many seconds without traffic, where the runtime can (IDLE_TIMEOUT). */
  idleTimeoutSeconds?: number;
  /** For what the adapter itself has to say: errors that escaped the app, settings it cannot apply. */
  log: Logger;
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

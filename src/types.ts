// What the app, its observers, the adapters and the config share, owned here at the bottom so
// that types flow down: the one interface every runtime adapter implements (one file per runtime,
// as in h3js/srvx), what a listener is asked to listen on, what the app is told about a
// connection, and what it tells the access log and the metrics about each request.
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
  /** The runtime's parser answers two Host headers with 400 itself (Deno.serve): the app need not look. */
  refusesDuplicateHost?: true;
}

/**
 * One request on its way through the app: begun by fetch(), its route named by the table. Its
 * method and headers are read from the Request once, here: on Deno each read of a Request's
 * getter checks the object's brand again, and the hot path needs both several times.
 */
export interface RequestState {
  conn: ConnInfo;
  method: string;
  headers: Headers;
  /** X-Request-Id: the caller's, if short and plain, else a new UUID (Hono's requestId rules). */
  requestId: string;
  /** The path as it came in (still percent-encoded), without the query: for the routes and the log. */
  path: string;
  /** The path has a '%': Hono decodes it before routing. */
  encoded: boolean;
  /** The pattern of the route the path belongs to (/facts/:id), "/*" when none: a metrics label. */
  route: string;
  /** A HEAD request: answered as GET with the body left out and GET's Content-Length. */
  head: boolean;
  /** GET's body length when a prebuilt answer was sent, which leaves Content-Length to the runtime. */
  bytes?: number;
}

export type AppEnv = { Bindings: RequestState };

/**
 * Told about every answered request once its response is complete: the access log and the request
 * metrics. Called synchronously, so an answer that needs no await (GET /fact) never waits for a
 * promise. `duration` is the time to produce the response, in milliseconds. The body's length is
 * `state.bytes` for a prebuilt answer (the runtime states it on the wire), else the response's
 * Content-Length; a HEAD response states GET's and has no body.
 */
export type Observer = (state: RequestState, response: Response, duration: number) => void;

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
  /**
   * Resolves if the runtime stops accepting on its own while serving (Deno.serve ends its accept
   * loop on an accept error such as EMFILE), with that error. Absent where that cannot happen.
   */
  readonly failed?: Promise<Error>;
}

/** The runtime cannot serve what was asked: refuse loudly rather than serve somewhere else. */
export class UnsupportedError extends Error {
  override name = "UnsupportedError";
}

export interface Adapter {
  readonly runtime: "bun" | "node" | "deno";
  listen(options: ListenOptions): Promise<Listener>;
}

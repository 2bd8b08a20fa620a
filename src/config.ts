// All configuration comes from the environment and is validated here, once, before anything is
// bound. A bad value becomes one ConfigError line naming the variable, the value and what is allowed.
import { dirname } from "node:path";
import * as v from "valibot";

/** sun_path holds 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_SOCKPATH_BYTES = 107;
/** The socket is first bound as DIR/.pf-XXXXXX/s (socket.ts), so DIR must leave room for that. */
export const PRIVATE_BIND_SUFFIX_BYTES = "/.pf-XXXXXX/s".length;

export type ListenTarget =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; host: string; port: number };

export interface SocketOptions {
  /** Exact permission bits the socket gets (SOCKMODE). */
  mode: number;
  /** Group name or numeric gid the socket is handed to (SOCKGROUP). */
  group?: string;
}

export interface Config {
  listen: ListenTarget;
  socket: SocketOptions;
  shutdownTimeoutMs: number;
  /** Largest request body accepted, in bytes (MAX_BODY); larger ones get 413. */
  maxBodyBytes: number;
  /** Seconds a connection may sit without traffic before it is closed (IDLE_TIMEOUT); 0 = never. */
  idleTimeoutSeconds: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const DEFAULT_MAX_BODY = 1024;
const MAX_BODY_LIMIT = 1024 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT = 75;

const wholeNumber = (min: number, max: number, unit = "") =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `must be a whole number from ${min} to ${max}${unit}`),
    v.transform(Number),
    v.minValue(min, `must be a whole number from ${min} to ${max}${unit}`),
    v.maxValue(max, `must be a whole number from ${min} to ${max}${unit}`),
  );

const SockPath = v.pipe(
  v.string(),
  v.check((s) => !s.startsWith("@"), "abstract sockets (@name) are refused: they have no file permissions, so any local process could connect; use a path such as /run/printerfacts/printerfacts.sock"),
  v.check((s) => !s.includes("\0"), "must not contain a NUL byte"),
  v.check(
    (s) => Buffer.byteLength(s) <= MAX_SOCKPATH_BYTES,
    (issue) => `is ${Buffer.byteLength(String(issue.input))} bytes; a Unix socket path holds at most ${MAX_SOCKPATH_BYTES}`,
  ),
  v.check((s) => !s.endsWith("/"), "must name a socket file, not a directory"),
  v.check(
    (s) => Buffer.byteLength(dirname(s)) + PRIVATE_BIND_SUFFIX_BYTES <= MAX_SOCKPATH_BYTES,
    (issue) =>
      `has a ${Buffer.byteLength(dirname(String(issue.input)))}-byte directory; it may be at most ${MAX_SOCKPATH_BYTES - PRIVATE_BIND_SUFFIX_BYTES} bytes, since the socket is first bound under a private name in it`,
  ),
);

const IpAddress = v.pipe(v.string(), v.ip());
const Host = v.pipe(
  v.string(),
  v.check((s) => s === "localhost" || v.is(IpAddress, s), "must be an IP address (such as :: or 127.0.0.1) or localhost"),
);

const SockMode = v.pipe(
  v.string(),
  v.regex(/^0?[0-7]{3}$/, "must be octal permission bits from 000 to 777, such as 0660"),
  v.transform((s) => Number.parseInt(s, 8)),
);

const SockGroup = v.pipe(
  v.string(),
  v.regex(/^(\d+|[A-Za-z_][A-Za-z0-9_.-]*\$?)$/, "must be a group name or a numeric gid"),
);

const Env = v.object({
  SOCKPATH: v.optional(SockPath),
  PORT: v.optional(wholeNumber(1, 65535)),
  HOST: v.optional(Host, "::"),
  SOCKMODE: v.optional(SockMode, "0660"),
  SOCKGROUP: v.optional(SockGroup),
  SHUTDOWN_TIMEOUT: v.optional(wholeNumber(0, 3600, " seconds"), "10"),
  // No route takes a body: 1 KiB leaves room for a stray empty JSON or form, no more.
  MAX_BODY: v.optional(wholeNumber(0, MAX_BODY_LIMIT, " bytes"), String(DEFAULT_MAX_BODY)),
  // Bun takes 0 to 255; longer than nginx's upstream keepalive_timeout (60 s), so nginx closes first.
  IDLE_TIMEOUT: v.optional(wholeNumber(0, 255, " seconds"), String(DEFAULT_IDLE_TIMEOUT)),
});

export const DEFAULT_PORT = 3000;

/** Every variable this module reads, for --help and for error messages. */
export const ENV_VARS = Object.keys(Env.entries);

export function loadConfig(env: Record<string, string | undefined>): Config {
  const given: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const value = env[name];
    if (value === undefined) continue;
    // An empty value is almost always an unset shell variable: never fall back to a default for it.
    if (value === "") throw new ConfigError(`${name} is set but empty; unset it or give a value`);
    given[name] = value;
  }

  const result = v.safeParse(Env, given);
  if (!result.success) {
    const issue = result.issues[0];
    const name = String(issue.path?.[0]?.key ?? "environment");
    throw new ConfigError(`${name}=${JSON.stringify(given[name])} ${issue.message}`);
  }
  const cfg = result.output;

  if (cfg.SOCKPATH !== undefined && cfg.PORT !== undefined) {
    throw new ConfigError(
      "SOCKPATH and PORT are both set; set SOCKPATH to serve on a Unix socket, or PORT to serve on TCP, not both",
    );
  }
  if (cfg.SOCKPATH !== undefined && given.HOST !== undefined) {
    throw new ConfigError("HOST applies only to TCP; with SOCKPATH set, unset HOST");
  }
  if (cfg.SOCKPATH === undefined && (given.SOCKMODE !== undefined || given.SOCKGROUP !== undefined)) {
    throw new ConfigError("SOCKMODE and SOCKGROUP apply only to a Unix socket; set SOCKPATH too, or unset them");
  }

  return {
    listen:
      cfg.SOCKPATH !== undefined
        ? { kind: "unix", path: cfg.SOCKPATH }
        : { kind: "tcp", host: cfg.HOST, port: cfg.PORT ?? DEFAULT_PORT },
    socket: { mode: cfg.SOCKMODE, group: cfg.SOCKGROUP },
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT * 1000,
    maxBodyBytes: cfg.MAX_BODY,
    idleTimeoutSeconds: cfg.IDLE_TIMEOUT,
  };
}

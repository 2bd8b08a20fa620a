// All configuration comes from the environment and is validated here, once, before anything is
// bound. A bad value becomes one ConfigError line naming the variable, the value and what is allowed.
import { dirname } from "node:path";
import * as v from "valibot";
import { ipVersion } from "./ip.ts";
import type { ListenTarget } from "./serve/types.ts";

/** sun_path holds 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_SOCKPATH_BYTES = 107;
/** The socket is first bound as DIR/.pf-XXXXXX/s (socket.ts, privateDirFor), so DIR must leave room for that. */
export const PRIVATE_BIND_SUFFIX_BYTES = "/.pf-XXXXXX/s".length;

export type { ListenTarget };

/** sd_listen_fds(3): passed sockets start at fd 3. */
export const SD_LISTEN_FDS_START = 3;

export interface SocketOptions {
  /** Exact permission bits the socket gets (SOCKMODE). */
  mode: number;
  /** Group name or numeric gid the socket is handed to (SOCKGROUP). */
  group?: string;
}

export type LogFormat = "text" | "json";
/** The least severe line that is written; "off" writes none. */
export type LogLevel = "info" | "warn" | "error" | "off";

/** An IP address or CIDR block from TRUST_PROXY, as node:net's BlockList takes it. */
export interface TrustedNet {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

export interface Config {
  listen: ListenTarget;
  socket: SocketOptions;
  shutdownTimeoutMs: number;
  /** Largest request body accepted, in bytes (MAX_BODY); larger ones get 413. */
  maxBodyBytes: number;
  /** Seconds a connection may sit without traffic before it is closed (IDLE_TIMEOUT); 0 = never. */
  idleTimeoutSeconds: number;
  log: { format: LogFormat; level: LogLevel };
  /** TCP peers whose X-Real-IP / X-Forwarded-For are believed (TRUST_PROXY). */
  trustProxy: TrustedNet[];
  /** A second, metrics-only listener (METRICS_SOCKPATH or METRICS_PORT); unset: /metrics on the main one. */
  metrics?: { listen: ListenTarget; socket: SocketOptions };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const DEFAULT_MAX_BODY = 16 * 1024;
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

/** "10.0.0.0/8", "::1" or "192.0.2.7" (a single address is a /32 or /128). */
function parseTrustedNet(entry: string): TrustedNet | undefined {
  const [address, prefix, ...rest] = entry.split("/");
  const version = ipVersion(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  return { address, prefix: bits, family: version === 4 ? "ipv4" : "ipv6" };
}

const TrustProxy = v.pipe(
  v.string(),
  v.transform((s) => s.split(",").map((entry) => entry.trim())),
  v.check(
    (entries) => entries.every((entry) => parseTrustedNet(entry) !== undefined),
    (issue) => {
      const bad = (issue.input as string[]).find((entry) => parseTrustedNet(entry) === undefined);
      return `has ${JSON.stringify(bad)}, which is not an IP address or CIDR block; give a comma-separated list such as 127.0.0.1,10.0.0.0/8,::1`;
    },
  ),
  v.transform((entries) => entries.map((entry) => parseTrustedNet(entry) as TrustedNet)),
);

const Env = v.object({
  SOCKPATH: v.optional(SockPath),
  PORT: v.optional(wholeNumber(1, 65535)),
  HOST: v.optional(Host, "::"),
  SOCKMODE: v.optional(SockMode, "0660"),
  SOCKGROUP: v.optional(SockGroup),
  SHUTDOWN_TIMEOUT: v.optional(wholeNumber(0, 3600, " seconds"), "10"),
  // No route takes a body. 16 KiB is nginx's client_max_body_size in deploy/nginx, so nginx
  // answers the 413 first; this is the second line, for whatever else reaches the socket.
  MAX_BODY: v.optional(wholeNumber(0, MAX_BODY_LIMIT, " bytes"), String(DEFAULT_MAX_BODY)),
  // Bun takes 0 to 255; longer than nginx's upstream keepalive_timeout (60 s), so nginx closes first.
  IDLE_TIMEOUT: v.optional(wholeNumber(0, 255, " seconds"), String(DEFAULT_IDLE_TIMEOUT)),
  // Socket activation, set by systemd (sd_listen_fds(3)): we serve exactly one passed socket.
  LISTEN_FDS: v.optional(v.pipe(v.string(), v.literal("1", "must be 1: printerfacts serves one socket, so the .socket unit needs exactly one Listen line"))),
  LISTEN_PID: v.optional(wholeNumber(1, 2 ** 22)),
  LOG_FORMAT: v.optional(v.picklist(["text", "json"], "must be text or json"), "text"),
  LOG_LEVEL: v.optional(v.picklist(["info", "warn", "error", "off"], "must be info, warn, error or off"), "info"),
  TRUST_PROXY: v.optional(TrustProxy),
  METRICS_SOCKPATH: v.optional(SockPath),
  METRICS_SOCKMODE: v.optional(SockMode, "0660"),
  METRICS_SOCKGROUP: v.optional(SockGroup),
  METRICS_PORT: v.optional(wholeNumber(1, 65535)),
  METRICS_HOST: v.optional(Host, "127.0.0.1"),
});

export const DEFAULT_PORT = 3000;

/** Every variable this module reads, for --help and for error messages. */
export const ENV_VARS = Object.keys(Env.entries);

/** `pid` is this process's id, which LISTEN_PID must name. */
export function loadConfig(env: Record<string, string | undefined>, pid = process.pid): Config {
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
  const activated = activation(cfg, given, pid);

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
  if (cfg.SOCKPATH !== undefined && cfg.TRUST_PROXY !== undefined) {
    throw new ConfigError("TRUST_PROXY applies only to TCP: over SOCKPATH the socket's permissions decide who the proxy is, and its X-Real-IP is always used; unset TRUST_PROXY");
  }
  checkMetricsListener(cfg, given);

  return {
    listen: activated
      ? { kind: "systemd", fd: SD_LISTEN_FDS_START }
      : cfg.SOCKPATH !== undefined
        ? { kind: "unix", path: cfg.SOCKPATH }
        : { kind: "tcp", host: cfg.HOST, port: cfg.PORT ?? DEFAULT_PORT },
    socket: { mode: cfg.SOCKMODE, group: cfg.SOCKGROUP },
    shutdownTimeoutMs: cfg.SHUTDOWN_TIMEOUT * 1000,
    maxBodyBytes: cfg.MAX_BODY,
    idleTimeoutSeconds: cfg.IDLE_TIMEOUT,
    log: { format: cfg.LOG_FORMAT, level: cfg.LOG_LEVEL },
    trustProxy: cfg.TRUST_PROXY ?? [],
    metrics:
      cfg.METRICS_SOCKPATH !== undefined
        ? { listen: { kind: "unix", path: cfg.METRICS_SOCKPATH }, socket: { mode: cfg.METRICS_SOCKMODE, group: cfg.METRICS_SOCKGROUP } }
        : cfg.METRICS_PORT !== undefined
          ? { listen: { kind: "tcp", host: cfg.METRICS_HOST, port: cfg.METRICS_PORT }, socket: { mode: cfg.METRICS_SOCKMODE } }
          : undefined,
  };
}

/**
 * Whether systemd passed us a socket. Unlike sd_listen_fds(3), a LISTEN_PID naming another process
 * is an error rather than "no socket": it means a wrapper (npm, a shell without exec) got the
 * socket, and serving on a default address instead would not be what was asked.
 */
function activation(cfg: v.InferOutput<typeof Env>, given: Record<string, string>, pid: number): boolean {
  if (cfg.LISTEN_FDS === undefined && cfg.LISTEN_PID === undefined) return false;
  if (cfg.LISTEN_FDS === undefined || cfg.LISTEN_PID === undefined) {
    throw new ConfigError("LISTEN_FDS and LISTEN_PID come together from systemd socket activation; set both or neither");
  }
  if (cfg.LISTEN_PID !== pid) {
    throw new ConfigError(
      `LISTEN_PID=${cfg.LISTEN_PID} is not this process (${pid}): the socket systemd passed went to another process; start printerfacts directly (no npm run, no shell without exec)`,
    );
  }
  const conflicting = ["SOCKPATH", "PORT", "HOST", "SOCKMODE", "SOCKGROUP"].filter((name) => given[name] !== undefined);
  if (conflicting.length > 0) {
    throw new ConfigError(`${conflicting.join(" and ")} cannot be used with socket activation (LISTEN_FDS): systemd's .socket unit decides where to listen; unset ${conflicting.length > 1 ? "them" : "it"}`);
  }
  return true;
}

/** The metrics listener's variables: the same exclusions as the main listener's, and never the same address. */
function checkMetricsListener(cfg: v.InferOutput<typeof Env>, given: Record<string, string>) {
  if (cfg.METRICS_SOCKPATH !== undefined && cfg.METRICS_PORT !== undefined) {
    throw new ConfigError("METRICS_SOCKPATH and METRICS_PORT are both set; set one of them for a separate metrics listener, or neither to serve /metrics on the main one");
  }
  if (cfg.METRICS_PORT === undefined && given.METRICS_HOST !== undefined) {
    throw new ConfigError("METRICS_HOST applies only with METRICS_PORT; set METRICS_PORT too, or unset METRICS_HOST");
  }
  if (cfg.METRICS_SOCKPATH === undefined && (given.METRICS_SOCKMODE !== undefined || given.METRICS_SOCKGROUP !== undefined)) {
    throw new ConfigError("METRICS_SOCKMODE and METRICS_SOCKGROUP apply only with METRICS_SOCKPATH; set it too, or unset them");
  }
  if (cfg.METRICS_SOCKPATH !== undefined && cfg.METRICS_SOCKPATH === cfg.SOCKPATH) {
    throw new ConfigError("METRICS_SOCKPATH is the same path as SOCKPATH; give the metrics listener a socket of its own");
  }
  if (cfg.METRICS_PORT !== undefined && cfg.SOCKPATH === undefined && cfg.METRICS_PORT === (cfg.PORT ?? DEFAULT_PORT)) {
    throw new ConfigError(`METRICS_PORT=${cfg.METRICS_PORT} is the port the service itself listens on; give the metrics listener a port of its own`);
  }
}

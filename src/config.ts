// All configuration comes from the environment and is validated here, once, before anything is
// bound. A bad value becomes one ConfigError line naming the variable, the value and what is allowed.
import { dirname } from "node:path";
import * as v from "valibot";
import { ipVersion } from "./ip.ts";
import type { ListenTarget } from "./types.ts";

/** sun_path holds 108 bytes on Linux, one of them the terminating NUL. */
const MAX_SOCKPATH_BYTES = 107;
/** The socket is first bound as DIR/.pf-XXXXXX/s (socket.ts, privateDirFor), so DIR must leave room for that. */
const PRIVATE_BIND_SUFFIX_BYTES = "/.pf-XXXXXX/s".length;

/** sd_listen_fds(3): passed sockets start at fd 3. */
const SD_LISTEN_FDS_START = 3;

interface SocketOptions {
  /** Exact permission bits the socket gets (SOCKMODE). */
  mode: number;
  /** Group name or numeric gid the socket is handed to (SOCKGROUP). */
  group?: string;
}

/** Where a listener listens, as configured: a Unix socket also says which permissions it gets. */
type ListenAt = ({ kind: "unix"; path: string } & SocketOptions) | Exclude<ListenTarget, { kind: "unix" }>;

/** An IP address or CIDR block from TRUST_PROXY, as node:net's BlockList takes it. */
export interface TrustedNet {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

// The rules, each a valibot schema from the variable's string to what the program uses. A failed
// check's message follows `NAME="value" ` in the error line.

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
  v.check(
    (s) => !s.startsWith("@"),
    "abstract sockets (@name) are refused: they have no file permissions, so any local process could connect; use a path such as /run/printerfacts/printerfacts.sock",
  ),
  v.check((s) => !s.includes("\0"), "must not contain a NUL byte"),
  v.check(
    (s) => Buffer.byteLength(s) <= MAX_SOCKPATH_BYTES,
    (issue) =>
      `is ${Buffer.byteLength(String(issue.input))} bytes; a Unix socket path holds at most ${MAX_SOCKPATH_BYTES}`,
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
  v.check(
    (s) => s === "localhost" || v.is(IpAddress, s),
    "must be an IP address (such as :: or 127.0.0.1) or localhost",
  ),
);

const Port = wholeNumber(1, 65535);

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

/** The variables every listener has, unprefixed (the main one's) or prefixed (METRICS_). */
const LISTENER_VARIABLES = ["SOCKPATH", "SOCKMODE", "SOCKGROUP", "PORT", "HOST"] as const;
type ListenerVariable = (typeof LISTENER_VARIABLES)[number];

/** Which listener a variable configures: the main one, the metrics-only one, or both (the process). */
type VariableScope = "main" | "metrics" | "both";

export interface Variable {
  /** What a value must be and what it becomes (a valibot schema from the string). */
  rule: v.GenericSchema<string, unknown>;
  /** The value used when the variable is unset, as it would be written (it passes the rule too); absent: `about` says. */
  default?: string;
  /** One line for --help and docs/configuration.md. */
  about: string;
  listener: VariableScope;
}

/**
 * Every environment variable printerfacts reads, each described once: the parsing, `Config`'s
 * types, --help, docs/configuration.md's table and scripts/deno-run's --allow-env all come from
 * here (`npm run generate` writes the last two). A new variable is its entry here and its use.
 */
export const VARIABLES = {
  SOCKPATH: {
    rule: SockPath,
    about: "serve on this Unix socket only (at most 107 bytes), e.g. /run/printerfacts/printerfacts.sock",
    listener: "main",
  },
  SOCKMODE: {
    rule: SockMode,
    default: "0660",
    about: "the socket's exact permissions, octal; o+w (such as 0666) lets every local user in, and is warned about",
    listener: "main",
  },
  SOCKGROUP: {
    rule: SockGroup,
    about: "the socket's group, a name or gid this process is in (default: the process's own group)",
    listener: "main",
  },
  PORT: {
    rule: Port,
    default: "3000",
    about: "serve on TCP on this port instead (used when SOCKPATH is unset; never both)",
    listener: "main",
  },
  HOST: {
    rule: Host,
    default: "::",
    about: "the TCP address to bind; :: takes IPv6 and IPv4 on every interface",
    listener: "main",
  },
  SHUTDOWN_TIMEOUT: {
    rule: wholeNumber(0, 3600, " seconds"),
    default: "10",
    about: "seconds to let requests finish after SIGTERM, then the rest are cut",
    listener: "both",
  },
  // No route takes a body. 16 KiB is nginx's client_max_body_size in deploy/nginx, so nginx
  // answers the 413 first; this is the second line, for whatever else reaches the socket.
  MAX_BODY: {
    rule: wholeNumber(0, 1024 * 1024 * 1024, " bytes"),
    default: "16384",
    about: "largest request body in bytes; a longer one gets 413 (nginx's client_max_body_size refuses first)",
    listener: "main",
  },
  // Bun takes 0 to 255; longer than the shipped proxies' upstream keep-alive (nginx 4 s), so they close first.
  IDLE_TIMEOUT: {
    rule: wholeNumber(0, 255, " seconds"),
    default: "75",
    about: "seconds an idle connection is kept, 0 to 255 (0 = never); above nginx's upstream keepalive_timeout",
    listener: "both",
  },
  // Socket activation, set by systemd (sd_listen_fds(3)): we serve exactly one passed socket.
  LISTEN_FDS: {
    rule: v.pipe(
      v.string(),
      v.literal("1", "must be 1: printerfacts serves one socket, so the .socket unit needs exactly one Listen line"),
    ),
    about: `set by systemd socket activation (must be 1); then ${LISTENER_VARIABLES.join(", ")} stay unset`,
    listener: "main",
  },
  LISTEN_PID: {
    rule: wholeNumber(1, 2 ** 22),
    about: "set by systemd with LISTEN_FDS; must be this process's id",
    listener: "main",
  },
  LOG_FORMAT: {
    rule: v.picklist(["text", "json"], "must be text or json"),
    default: "text",
    about: "the access log on stdout: text (logfmt) or json",
    listener: "main",
  },
  LOG_LEVEL: {
    rule: v.picklist(["info", "warn", "error", "off"], "must be info, warn, error or off"),
    default: "info",
    about: "the least severe line written, access log and stderr alike: info, warn, error or off",
    listener: "both",
  },
  TRUST_PROXY: {
    rule: TrustProxy,
    about: "TCP peers (IPs, CIDR blocks, comma-separated) whose X-Real-IP is believed; TCP only",
    listener: "main",
  },
  METRICS_SOCKPATH: {
    rule: SockPath,
    about: "serve /metrics only, on this Unix socket; the main listener then answers /metrics with 404",
    listener: "metrics",
  },
  METRICS_SOCKMODE: {
    rule: SockMode,
    default: "0660",
    about: "the metrics socket's exact permissions, octal; o+w is warned about",
    listener: "metrics",
  },
  METRICS_SOCKGROUP: {
    rule: SockGroup,
    about: "the metrics socket's group, a name or gid this process is in (default: the process's own group)",
    listener: "metrics",
  },
  METRICS_PORT: {
    rule: Port,
    about: "serve /metrics only, on this TCP port (instead of METRICS_SOCKPATH)",
    listener: "metrics",
  },
  METRICS_HOST: { rule: Host, default: "127.0.0.1", about: "the address METRICS_PORT binds", listener: "metrics" },
} as const satisfies Record<string, Variable>;

type VariableName = keyof typeof VARIABLES;
/** Every variable this module reads, in the table's order. */
export const ENV_VARS = Object.keys(VARIABLES) as VariableName[];

/** The environment as the table reads it: each rule's output, undefined only where unset without a default. */
type Env = {
  [N in VariableName]:
    | v.InferOutput<(typeof VARIABLES)[N]["rule"]>
    | ((typeof VARIABLES)[N] extends { default: string } ? never : undefined);
};

/** Every variable by its rule, in the table's order, so the first bad one is the one reported. */
const ENV = v.object(
  Object.fromEntries(
    ENV_VARS.map((name) => {
      const variable: Variable = VARIABLES[name];
      return [name, v.optional(variable.rule, variable.default)];
    }),
  ),
);

export type LogFormat = Env["LOG_FORMAT"];
/** The least severe line that is written; "off" writes none. */
export type LogLevel = Env["LOG_LEVEL"];

/** The two listeners: each one's variables' prefix, and what to add when both SOCKPATH and PORT are set. */
export const LISTENERS = {
  main: { prefix: "", hint: "" },
  metrics: { prefix: "METRICS_", hint: ", or neither to serve /metrics on the main one" },
} as const satisfies Record<Exclude<VariableScope, "both">, { prefix: string; hint: string }>;
export type ListenerName = keyof typeof LISTENERS;
type ListenerPrefix = (typeof LISTENERS)[ListenerName]["prefix"];

/** One listener as its variables configure it. */
export interface ListenerConfig {
  /** "" or "METRICS_": its variables' prefix, so that an error names the variable to change. */
  prefix: ListenerPrefix;
  target: ListenAt;
}

export interface Config {
  /** The service (SOCKPATH, PORT, ...; or the socket systemd passed). */
  main: ListenerConfig;
  /** A second, metrics-only listener (METRICS_SOCKPATH or METRICS_PORT); unset: /metrics on the main one. */
  metrics?: ListenerConfig;
  shutdownTimeoutMs: number;
  /** Largest request body accepted, in bytes (MAX_BODY); larger ones get 413. */
  maxBodyBytes: Env["MAX_BODY"];
  /** Seconds a connection may sit without traffic before it is closed (IDLE_TIMEOUT); 0 = never. */
  idleTimeoutSeconds: Env["IDLE_TIMEOUT"];
  log: { format: LogFormat; level: LogLevel };
  /** TCP peers whose X-Real-IP / X-Forwarded-For are believed (TRUST_PROXY). */
  trustProxy: TrustedNet[];
}

/**
 * `pid` is this process's id, which LISTEN_PID must name. Every value is checked first, in the
 * table's order; then how they combine.
 */
export function loadConfig(env: Record<string, string | undefined>, pid = process.pid): Config {
  const given: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const value = env[name];
    if (value === undefined) continue;
    // An empty value is almost always an unset shell variable: never fall back to a default for it.
    if (value === "") throw new ConfigError(`${name} is set but empty; unset it or give a value`);
    given[name] = value;
  }
  const result = v.safeParse(ENV, given);
  if (!result.success) {
    const issue = result.issues[0];
    const name = String(issue.path?.[0]?.key ?? "environment");
    throw new ConfigError(`${name}=${JSON.stringify(given[name])} ${issue.message}`);
  }
  const values = result.output as Env;

  const main: ListenerConfig = activation(values, given, pid)
    ? { prefix: LISTENERS.main.prefix, target: { kind: "systemd", fd: SD_LISTEN_FDS_START } }
    : readListener("main", values, given);
  const metrics = readListener("metrics", values, given);
  if (main.target.kind === "unix" && values.TRUST_PROXY !== undefined) {
    throw new ConfigError(
      "TRUST_PROXY applies only to TCP: over SOCKPATH the socket's permissions decide who the proxy is, and its X-Real-IP is always used; unset TRUST_PROXY",
    );
  }
  if (metrics) checkApart(main, metrics);

  return {
    main,
    metrics,
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT * 1000,
    maxBodyBytes: values.MAX_BODY,
    idleTimeoutSeconds: values.IDLE_TIMEOUT,
    log: { format: values.LOG_FORMAT, level: values.LOG_LEVEL },
    trustProxy: values.TRUST_PROXY ?? [],
  };
}

/** The listener variables that mean something for one kind of listener only. */
const ONLY_FOR: Record<"unix" | "tcp", ListenerVariable[]> = { unix: ["SOCKMODE", "SOCKGROUP"], tcp: ["HOST"] };

/**
 * One listener from its variables, by the same rules for either: SOCKPATH (a Unix socket) or PORT
 * (TCP), never both; with neither, TCP on PORT's default if it has one (the main listener), else
 * no listener. A variable for one kind of listener (ONLY_FOR) is refused with the other.
 */
function readListener(name: "main", values: Env, given: Record<string, string>): ListenerConfig;
function readListener(name: ListenerName, values: Env, given: Record<string, string>): ListenerConfig | undefined;
function readListener(name: ListenerName, values: Env, given: Record<string, string>): ListenerConfig | undefined {
  const { prefix, hint } = LISTENERS[name];
  const value = <V extends ListenerVariable>(variable: V) => values[`${prefix}${variable}` as `${ListenerPrefix}${V}`];
  const set = (variable: ListenerVariable) => given[`${prefix}${variable}`] !== undefined;
  const [path, port] = [`${prefix}SOCKPATH`, `${prefix}PORT`];
  if (set("SOCKPATH") && set("PORT")) {
    throw new ConfigError(
      `${path} and ${port} are both set; set ${path} to serve on a Unix socket or ${port} to serve on TCP, not both${hint}`,
    );
  }
  const sockPath = value("SOCKPATH");
  const tcpPort = sockPath === undefined ? value("PORT") : undefined;
  const kind = sockPath !== undefined ? "unix" : tcpPort !== undefined ? "tcp" : undefined;
  for (const only of ["unix", "tcp"] as const) {
    const misplaced = ONLY_FOR[only].filter((variable) => set(variable) && kind !== only).map((v) => prefix + v);
    if (misplaced.length === 0) continue;
    const [them, apply] = misplaced.length > 1 ? ["them", "apply"] : ["it", "applies"];
    const advice =
      only === "unix"
        ? `a Unix socket; set ${path} too, or unset ${them}`
        : set("SOCKPATH")
          ? `TCP, and ${path} asks for a socket; unset ${them}`
          : `TCP; set ${port} too, or unset ${them}`;
    throw new ConfigError(`${misplaced.join(" and ")} ${apply} only to ${advice}`);
  }
  if (sockPath !== undefined) {
    return { prefix, target: { kind: "unix", path: sockPath, mode: value("SOCKMODE"), group: value("SOCKGROUP") } };
  }
  if (tcpPort !== undefined) return { prefix, target: { kind: "tcp", host: value("HOST"), port: tcpPort } };
  return undefined;
}

/**
 * Whether systemd passed us a socket. Unlike sd_listen_fds(3), a LISTEN_PID naming another process
 * is an error rather than "no socket": it means a wrapper (npm, a shell without exec) got the
 * socket, and serving on a default address instead would not be what was asked.
 */
function activation(cfg: Env, given: Record<string, string>, pid: number): boolean {
  if (cfg.LISTEN_FDS === undefined && cfg.LISTEN_PID === undefined) return false;
  if (cfg.LISTEN_FDS === undefined || cfg.LISTEN_PID === undefined) {
    throw new ConfigError(
      "LISTEN_FDS and LISTEN_PID come together from systemd socket activation; set both or neither",
    );
  }
  if (cfg.LISTEN_PID !== pid) {
    throw new ConfigError(
      `LISTEN_PID=${cfg.LISTEN_PID} is not this process (${pid}): the socket systemd passed went to another process; start printerfacts directly (no npm run, no shell without exec)`,
    );
  }
  const conflicting = LISTENER_VARIABLES.map((name) => `${LISTENERS.main.prefix}${name}`).filter(
    (name) => given[name] !== undefined,
  );
  if (conflicting.length > 0) {
    throw new ConfigError(
      `${conflicting.join(" and ")} cannot be used with socket activation (LISTEN_FDS): systemd's .socket unit decides where to listen; unset ${conflicting.length > 1 ? "them" : "it"}`,
    );
  }
  return true;
}

/** Two listeners never share an address. */
function checkApart(main: ListenerConfig, metrics: ListenerConfig) {
  const [a, b] = [main.target, metrics.target];
  if (a.kind === "unix" && b.kind === "unix" && a.path === b.path) {
    throw new ConfigError(
      `${metrics.prefix}SOCKPATH is the same path as ${main.prefix}SOCKPATH; give the metrics listener a socket of its own`,
    );
  }
  if (a.kind === "tcp" && b.kind === "tcp" && a.port === b.port) {
    throw new ConfigError(
      `${metrics.prefix}PORT=${b.port} is the port the service itself listens on; give the metrics listener a port of its own`,
    );
  }
}

/**
 * What a valid configuration is still warned about at start, one line each: a socket every local
 * user may connect to (o+w: connect(2) needs write permission) bypasses nginx and its limits.
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const { prefix, target } of config.metrics ? [config.main, config.metrics] : [config.main]) {
    if (target.kind !== "unix" || (target.mode & 0o002) === 0) continue;
    const mode = target.mode.toString(8).padStart(4, "0");
    warnings.push(
      `${prefix}SOCKMODE=${mode} lets every local user connect to ${target.path} (o+w): any process on this host can reach the service directly, around nginx and its limits; use 0660 and put the proxy's user in the service's group (e.g. adduser www-data printerfacts)`,
    );
  }
  return warnings;
}

// config.ts in process: which listeners the environment describes, each variable's rule, and one
// line for a bad value. The real program with bad config is test/config-binary.test.ts.
import { describe, expect, test } from "bun:test";
import { ConfigError, configWarnings, LISTENERS, loadConfig, VARIABLES } from "../../src/config.ts";
import { errorOf } from "../helpers/config.ts";

describe("defaults", () => {
  test("TCP on [::]:3000, 10 s drain, text log at info, no trusted proxy, /metrics on the main listener", () => {
    expect(loadConfig({})).toEqual({
      main: { prefix: "", target: { kind: "tcp", host: "::", port: 3000 } },
      metrics: undefined,
      shutdownTimeoutMs: 10_000,
      maxBodyBytes: 16_384,
      idleTimeoutSeconds: 75,
      log: { format: "text", level: "info" },
      trustProxy: [],
    });
  });

  test("SOCKPATH alone serves on the socket only, mode 0660, the process's group", () => {
    expect(loadConfig({ SOCKPATH: "/run/printerfacts/printerfacts.sock" }).main.target).toEqual({
      kind: "unix",
      path: "/run/printerfacts/printerfacts.sock",
      mode: 0o660,
      group: undefined,
    });
  });

  test("HOST alone: TCP on that address and PORT's default", () => {
    expect(loadConfig({ HOST: "127.0.0.1" }).main.target).toEqual({ kind: "tcp", host: "127.0.0.1", port: 3000 });
  });

  test("SOCKMODE is octal, SOCKGROUP a name or gid, SHUTDOWN_TIMEOUT seconds", () => {
    const cfg = loadConfig({ SOCKPATH: "/run/x.sock", SOCKMODE: "0600", SOCKGROUP: "www-data", SHUTDOWN_TIMEOUT: "3" });
    expect(cfg.main.target).toMatchObject({ mode: 0o600, group: "www-data" });
    expect(cfg.shutdownTimeoutMs).toBe(3000);
    expect(loadConfig({ SOCKPATH: "/run/x.sock", SOCKMODE: "660" }).main.target).toMatchObject({ mode: 0o660 });
  });
});

test("each default in the table is the one loadConfig applies", () => {
  const cfg = loadConfig({ SOCKPATH: "/run/x/s.sock", METRICS_PORT: "9464" });
  expect(cfg.main.target.kind === "unix" && cfg.main.target.mode.toString(8)).toBe(
    VARIABLES.SOCKMODE.default.replace(/^0/, ""),
  );
  expect(cfg.shutdownTimeoutMs).toBe(Number(VARIABLES.SHUTDOWN_TIMEOUT.default) * 1000);
  expect(cfg.maxBodyBytes).toBe(Number(VARIABLES.MAX_BODY.default));
  expect(cfg.idleTimeoutSeconds).toBe(Number(VARIABLES.IDLE_TIMEOUT.default));
  expect(cfg.log).toEqual({ format: VARIABLES.LOG_FORMAT.default, level: VARIABLES.LOG_LEVEL.default });
  expect(cfg.metrics?.target).toEqual({ kind: "tcp", host: VARIABLES.METRICS_HOST.default, port: 9464 });
  expect(loadConfig({}).main.target).toEqual({
    kind: "tcp",
    host: VARIABLES.HOST.default,
    port: Number(VARIABLES.PORT.default),
  });
});

describe.each(Object.entries(LISTENERS))("the %s listener: the one set of listener rules", (name, { prefix }) => {
  const cfg = (env: Record<string, string>) =>
    loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [prefix + k, v])));
  const listener = (env: Record<string, string>) => (name === "main" ? cfg(env).main : cfg(env).metrics);

  test("SOCKPATH: a socket, with SOCKMODE and SOCKGROUP", () => {
    expect(listener({ SOCKPATH: "/run/pf/x.sock", SOCKMODE: "0600", SOCKGROUP: "www-data" })).toEqual({
      prefix,
      target: { kind: "unix", path: "/run/pf/x.sock", mode: 0o600, group: "www-data" },
    });
  });

  test("PORT and HOST: TCP", () => {
    expect(listener({ PORT: "9999", HOST: "::1" })?.target).toEqual({ kind: "tcp", host: "::1", port: 9999 });
  });

  test.each([
    [{ SOCKPATH: "/run/pf/x.sock", PORT: "9999" }, `${prefix}SOCKPATH and ${prefix}PORT are both set`],
    [
      { SOCKPATH: "/run/pf/x.sock", HOST: "::1" },
      `${prefix}HOST applies only to TCP, and ${prefix}SOCKPATH asks for a socket; unset it`,
    ],
    [{ PORT: "9999", SOCKMODE: "0600" }, `${prefix}SOCKMODE applies only to a Unix socket; set ${prefix}SOCKPATH too`],
    [
      { PORT: "9999", SOCKMODE: "0600", SOCKGROUP: "0" },
      `${prefix}SOCKMODE and ${prefix}SOCKGROUP apply only to a Unix socket; set ${prefix}SOCKPATH too, or unset them`,
    ],
    [{ SOCKPATH: "/run/pf/x.sock", SOCKMODE: "0888" }, `${prefix}SOCKMODE="0888" must be octal permission bits`],
    [{ PORT: "0" }, `${prefix}PORT="0" must be a whole number from 1 to 65535`],
  ])("%p is refused, naming the variable", (env, message) => {
    expect(() => cfg(env)).toThrow(message);
  });
});

test("the metrics listener: none unless METRICS_SOCKPATH or METRICS_PORT; 127.0.0.1 unless METRICS_HOST", () => {
  expect(loadConfig({ SOCKPATH: "/run/pf/a.sock" }).metrics).toBeUndefined();
  expect(loadConfig({ METRICS_PORT: "9100" }).metrics?.target).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9100 });
  expect(errorOf({ METRICS_SOCKPATH: "/run/m.sock", METRICS_PORT: "9464" })).toEndWith(
    "not both, or neither to serve /metrics on the main one",
  );
});

describe("bad values: one line naming the variable, the value and what is allowed", () => {
  const long = `/run/${"x".repeat(103)}`;
  test.each([
    [{ PORT: "abc" }, 'PORT="abc" must be a whole number from 1 to 65535'],
    [{ PORT: "70000" }, 'PORT="70000" must be a whole number from 1 to 65535'],
    [{ PORT: "0" }, 'PORT="0" must be a whole number from 1 to 65535'],
    [{ PORT: "" }, "PORT is set but empty; unset it or give a value"],
    [{ SOCKPATH: "" }, "SOCKPATH is set but empty; unset it or give a value"],
    [{ SOCKPATH: long }, `SOCKPATH="${long}" is 108 bytes; a Unix socket path holds at most 107`],
    [{ SOCKPATH: "@printerfacts" }, 'SOCKPATH="@printerfacts" abstract sockets (@name) are refused'],
    [{ SOCKPATH: "/run/printerfacts/" }, 'SOCKPATH="/run/printerfacts/" must name a socket file, not a directory'],
    [{ HOST: "example.com" }, 'HOST="example.com" must be an IP address (such as :: or 127.0.0.1) or localhost'],
    [
      { SOCKPATH: "/run/x.sock", SOCKMODE: "rw-rw----" },
      'SOCKMODE="rw-rw----" must be octal permission bits from 000 to 777, such as 0660',
    ],
    [{ SOCKPATH: "/run/x.sock", SOCKMODE: "4777" }, 'SOCKMODE="4777" must be octal permission bits'],
    [{ SOCKPATH: "/run/x.sock", SOCKMODE: "0668" }, 'SOCKMODE="0668" must be octal permission bits'],
    [
      { SOCKPATH: "/run/x.sock", SOCKGROUP: "no such group" },
      'SOCKGROUP="no such group" must be a group name or a numeric gid',
    ],
    [{ SHUTDOWN_TIMEOUT: "soon" }, 'SHUTDOWN_TIMEOUT="soon" must be a whole number from 0 to 3600 seconds'],
    [{ SOCKPATH: "/run/x.sock", PORT: "8080" }, "SOCKPATH and PORT are both set"],
    [{ SOCKPATH: "/run/x.sock", HOST: "::1" }, "HOST applies only to TCP"],
    [{ SOCKMODE: "0600" }, "SOCKMODE applies only to a Unix socket; set SOCKPATH too, or unset it"],
    [
      { SOCKMODE: "0600", SOCKGROUP: "0" },
      "SOCKMODE and SOCKGROUP apply only to a Unix socket; set SOCKPATH too, or unset them",
    ],
  ])("%p", (env, message) => {
    const got = errorOf(env as Record<string, string>);
    expect(got).toStartWith(message);
    expect(got).not.toContain("\n");
  });

  test("a directory too long to bind in privately is refused up front", () => {
    expect(errorOf({ SOCKPATH: `/${"d".repeat(94)}/s.sock` })).toContain("directory; it may be at most 94 bytes");
  });
});

describe("MAX_BODY and IDLE_TIMEOUT", () => {
  test("take whole numbers in range, 0 included (their defaults: above)", () => {
    expect(loadConfig({ MAX_BODY: "0", IDLE_TIMEOUT: "0" })).toMatchObject({ maxBodyBytes: 0, idleTimeoutSeconds: 0 });
  });

  test.each([
    ["MAX_BODY=1k", { MAX_BODY: "1k" }, 'MAX_BODY="1k" must be a whole number from 0 to 1073741824 bytes'],
    ["IDLE_TIMEOUT=256", { IDLE_TIMEOUT: "256" }, 'IDLE_TIMEOUT="256" must be a whole number from 0 to 255 seconds'],
    ["IDLE_TIMEOUT=-1", { IDLE_TIMEOUT: "-1" }, 'IDLE_TIMEOUT="-1" must be a whole number from 0 to 255 seconds'],
  ])("%s is refused", (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });
});

test("a value is checked before how values combine, in the table's order", () => {
  expect(() => loadConfig({ SOCKPATH: "/a.sock", PORT: "80" })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: "http", LOG_LEVEL: "x" })).toThrow(/^PORT="http" /);
  expect(() => loadConfig({ LOG_LEVEL: "x", METRICS_PORT: "http" })).toThrow(/^LOG_LEVEL="x" /);
  expect(() => loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242", PORT: "bad" }, 4242)).toThrow(/^PORT="bad" /);
});

describe("LISTEN_FDS and LISTEN_PID", () => {
  const errorFor = (env: Record<string, string>) => {
    try {
      loadConfig(env, 4242);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error("expected a ConfigError");
  };

  test("for this process: serve on fd 3 and nothing else", () => {
    expect(
      loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242", LISTEN_FDNAMES: "printerfacts.socket" }, 4242).main.target,
    ).toEqual({ kind: "systemd", fd: 3 });
    expect(loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242", SHUTDOWN_TIMEOUT: "3" }, 4242).shutdownTimeoutMs).toBe(
      3000,
    );
  });

  test("a metrics listener beside the passed socket, on any port (the passed one is not PORT's default)", () => {
    expect(loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242", METRICS_PORT: "3000" }, 4242).metrics?.target).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 3000,
    });
  });

  test.each([
    [
      { LISTEN_FDS: "1", LISTEN_PID: "17" },
      "LISTEN_PID=17 is not this process (4242): the socket systemd passed went to another process",
    ],
    [{ LISTEN_FDS: "2", LISTEN_PID: "4242" }, 'LISTEN_FDS="2" must be 1: printerfacts serves one socket'],
    [{ LISTEN_FDS: "1" }, "LISTEN_FDS and LISTEN_PID come together"],
    [{ LISTEN_PID: "4242" }, "LISTEN_FDS and LISTEN_PID come together"],
    [{ LISTEN_FDS: "1", LISTEN_PID: "x" }, 'LISTEN_PID="x" must be a whole number'],
    [
      { LISTEN_FDS: "1", LISTEN_PID: "4242", SOCKPATH: "/run/x.sock" },
      "SOCKPATH cannot be used with socket activation (LISTEN_FDS)",
    ],
    [
      { LISTEN_FDS: "1", LISTEN_PID: "4242", PORT: "80", HOST: "::1" },
      "PORT and HOST cannot be used with socket activation",
    ],
    [{ LISTEN_FDS: "1", LISTEN_PID: "4242", SOCKMODE: "0600" }, "SOCKMODE cannot be used with socket activation"],
  ])("%p", (env, message) => {
    const got = errorFor(env as Record<string, string>);
    expect(got).toStartWith(message);
    expect(got).not.toContain("\n");
  });
});

describe("a socket every local user may connect to (o+w) is warned about, once per listener", () => {
  test.each([
    [
      { SOCKPATH: "/run/p/s.sock", SOCKMODE: "0666" },
      ["SOCKMODE=0666 lets every local user connect to /run/p/s.sock (o+w)"],
    ],
    [{ SOCKPATH: "/run/p/s.sock", SOCKMODE: "777" }, ["SOCKMODE=0777 lets every local user connect"]],
    [
      { SOCKPATH: "/run/p/s.sock", METRICS_SOCKPATH: "/run/p/m.sock", METRICS_SOCKMODE: "0662" },
      ["METRICS_SOCKMODE=0662 lets every local user connect to /run/p/m.sock"],
    ],
    [{ SOCKPATH: "/run/p/s.sock", SOCKMODE: "0664" }, []],
    [{ SOCKPATH: "/run/p/s.sock" }, []],
    [{ PORT: "8080" }, []],
  ])("%p", (env, expected) => {
    const warnings = configWarnings(loadConfig(env));
    expect(warnings).toHaveLength(expected.length);
    for (const [i, prefix] of expected.entries()) expect(warnings[i]).toStartWith(prefix);
  });
});

// config.ts in process: which listeners the environment describes, and one line for a bad value.
import { describe, expect, test } from "bun:test";
import { ConfigError, LISTENERS, loadConfig } from "../../src/config.ts";

test("no variables: TCP on [::]:3000, /metrics on the main listener, text access log at info", () => {
  expect(loadConfig({})).toMatchObject({
    main: { listen: { kind: "tcp", host: "::", port: 3000 } },
    metrics: undefined,
    log: { format: "text", level: "info" },
    shutdownTimeoutMs: 10_000,
  });
});

test("SOCKPATH: a Unix socket with mode 0660 unless SOCKMODE says otherwise", () => {
  expect(loadConfig({ SOCKPATH: "/run/pf/pf.sock" })).toMatchObject({
    main: { listen: { kind: "unix", path: "/run/pf/pf.sock" }, socket: { mode: 0o660 } },
  });
  expect(loadConfig({ SOCKPATH: "/run/pf/pf.sock", SOCKMODE: "0600" }).main.socket.mode).toBe(0o600);
});

test("a metrics-only listener on a socket or on TCP (127.0.0.1 unless METRICS_HOST)", () => {
  expect(loadConfig({ SOCKPATH: "/run/pf/a.sock", METRICS_SOCKPATH: "/run/pf/m.sock" }).metrics?.listen).toEqual({
    kind: "unix",
    path: "/run/pf/m.sock",
  });
  expect(loadConfig({ METRICS_PORT: "9100" }).metrics?.listen).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9100 });
});

test("socket activation: LISTEN_FDS=1 with this process's LISTEN_PID serves fd 3", () => {
  expect(loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242" }, 4242).main.listen).toEqual({ kind: "systemd", fd: 3 });
});

test("a bad value is one ConfigError naming the variable", () => {
  expect(() => loadConfig({ SOCKPATH: "/a.sock", PORT: "80" })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: "http" })).toThrow(/^PORT="http" /);
  expect(() => loadConfig({ LOG_FORMAT: "" })).toThrow("LOG_FORMAT is set but empty; unset it or give a value");
});

describe.each(Object.entries(LISTENERS))(
  "the %s listener's variables follow the one set of listener rules",
  (name, { prefix }) => {
    const cfg = (env: Record<string, string>) =>
      loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [prefix + k, v])));
    const listener = (env: Record<string, string>) => (name === "main" ? cfg(env).main : cfg(env).metrics);

    test("SOCKPATH: a socket, with SOCKMODE and SOCKGROUP", () => {
      expect(listener({ SOCKPATH: "/run/pf/x.sock", SOCKMODE: "0600", SOCKGROUP: "www-data" })).toEqual({
        prefix,
        listen: { kind: "unix", path: "/run/pf/x.sock" },
        socket: { mode: 0o600, group: "www-data" },
      });
    });

    test("PORT and HOST: TCP", () => {
      expect(listener({ PORT: "9999", HOST: "::1" })?.listen).toEqual({ kind: "tcp", host: "::1", port: 9999 });
    });

    test.each([
      [{ SOCKPATH: "/run/pf/x.sock", PORT: "9999" }, `${prefix}SOCKPATH and ${prefix}PORT are both set`],
      [{ SOCKPATH: "/run/pf/x.sock", HOST: "::1" }, `${prefix}HOST applies only to TCP; with ${prefix}SOCKPATH set`],
      [{ PORT: "9999", SOCKMODE: "0600" }, `${prefix}SOCKMODE and ${prefix}SOCKGROUP apply only to a Unix socket`],
      [{ SOCKPATH: "/run/pf/x.sock", SOCKMODE: "0888" }, `${prefix}SOCKMODE="0888" must be octal permission bits`],
      [{ PORT: "0" }, `${prefix}PORT="0" must be a whole number from 1 to 65535`],
    ])("%p is refused, naming the variable", (env, message) => {
      expect(() => cfg(env)).toThrow(message);
    });
  },
);

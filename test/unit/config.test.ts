// config.ts in process: which listeners the environment describes, and one line for a bad value.
import { expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

test("no variables: TCP on [::]:3000, /metrics on the main listener, text access log at info", () => {
  expect(loadConfig({})).toMatchObject({
    listen: { kind: "tcp", host: "::", port: 3000 },
    metrics: undefined,
    log: { format: "text", level: "info" },
    shutdownTimeoutMs: 10_000,
  });
});

test("SOCKPATH: a Unix socket with mode 0660 unless SOCKMODE says otherwise", () => {
  expect(loadConfig({ SOCKPATH: "/run/pf/pf.sock" })).toMatchObject({
    listen: { kind: "unix", path: "/run/pf/pf.sock" },
    socket: { mode: 0o660 },
  });
  expect(loadConfig({ SOCKPATH: "/run/pf/pf.sock", SOCKMODE: "0600" }).socket.mode).toBe(0o600);
});

test("a metrics-only listener on a socket or on TCP (127.0.0.1 unless METRICS_HOST)", () => {
  expect(loadConfig({ SOCKPATH: "/run/pf/a.sock", METRICS_SOCKPATH: "/run/pf/m.sock" }).metrics?.listen).toEqual({
    kind: "unix",
    path: "/run/pf/m.sock",
  });
  expect(loadConfig({ METRICS_PORT: "9100" }).metrics?.listen).toEqual({ kind: "tcp", host: "127.0.0.1", port: 9100 });
});

test("socket activation: LISTEN_FDS=1 with this process's LISTEN_PID serves fd 3", () => {
  expect(loadConfig({ LISTEN_FDS: "1", LISTEN_PID: "4242" }, 4242).listen).toEqual({ kind: "systemd", fd: 3 });
});

test("a bad value is one ConfigError naming the variable", () => {
  expect(() => loadConfig({ SOCKPATH: "/a.sock", PORT: "80" })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: "http" })).toThrow(/^PORT="http" /);
  expect(() => loadConfig({ LOG_FORMAT: "" })).toThrow("LOG_FORMAT is set but empty; unset it or give a value");
});

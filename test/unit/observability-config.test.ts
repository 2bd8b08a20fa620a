// Configuration of the access log, TRUST_PROXY and the metrics listener: each variable's rule.
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { errorOf } from "../helpers/config.ts";

describe("good values", () => {
  test("LOG_FORMAT and LOG_LEVEL", () => {
    expect(loadConfig({ LOG_FORMAT: "json", LOG_LEVEL: "off" }).log).toEqual({ format: "json", level: "off" });
    expect(loadConfig({ LOG_LEVEL: "warn" }).log).toEqual({ format: "text", level: "warn" });
  });

  test("TRUST_PROXY: addresses and CIDR blocks, IPv4 and IPv6, spaces allowed after commas", () => {
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 10.0.0.0/8,::1,fd00::/8" }).trustProxy).toEqual([
      { address: "127.0.0.1", prefix: 32, family: "ipv4" },
      { address: "10.0.0.0", prefix: 8, family: "ipv4" },
      { address: "::1", prefix: 128, family: "ipv6" },
      { address: "fd00::", prefix: 8, family: "ipv6" },
    ]);
  });

  test("METRICS_SOCKPATH: a metrics-only socket, 0660 unless METRICS_SOCKMODE says otherwise", () => {
    expect(
      loadConfig({
        SOCKPATH: "/run/p/p.sock",
        METRICS_SOCKPATH: "/run/p/metrics.sock",
        METRICS_SOCKGROUP: "prometheus",
      }).metrics,
    ).toEqual({
      prefix: "METRICS_",
      target: { kind: "unix", path: "/run/p/metrics.sock", mode: 0o660, group: "prometheus" },
    });
    expect(loadConfig({ METRICS_SOCKPATH: "/run/p/m.sock", METRICS_SOCKMODE: "0600" }).metrics?.target).toMatchObject({
      mode: 0o600,
    });
  });

  test("METRICS_PORT: a metrics-only TCP listener on 127.0.0.1 unless METRICS_HOST says otherwise", () => {
    expect(loadConfig({ METRICS_PORT: "9464" }).metrics?.target).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 9464,
    });
    expect(loadConfig({ METRICS_PORT: "9464", METRICS_HOST: "::1" }).metrics?.target).toEqual({
      kind: "tcp",
      host: "::1",
      port: 9464,
    });
  });
});

describe("bad values: one line naming the variable, the value and what is allowed", () => {
  test.each([
    [{ LOG_FORMAT: "xml" }, 'LOG_FORMAT="xml" must be text or json'],
    [{ LOG_LEVEL: "debug" }, 'LOG_LEVEL="debug" must be info, warn, error or off'],
    [{ LOG_LEVEL: "" }, "LOG_LEVEL is set but empty"],
    [{ TRUST_PROXY: "nginx" }, 'TRUST_PROXY="nginx" has "nginx", which is not an IP address or CIDR block'],
    [{ TRUST_PROXY: "10.0.0.0/33" }, 'has "10.0.0.0/33", which is not an IP address or CIDR block'],
    [{ TRUST_PROXY: "::1/129" }, 'has "::1/129"'],
    [{ TRUST_PROXY: "127.0.0.1,,::1" }, 'has "", which is not an IP address'],
    [{ TRUST_PROXY: "10.0.0.0/8/8" }, 'has "10.0.0.0/8/8"'],
    [{ METRICS_PORT: "0" }, 'METRICS_PORT="0" must be a whole number from 1 to 65535'],
    [
      { METRICS_PORT: "9464", METRICS_HOST: "prometheus.local" },
      'METRICS_HOST="prometheus.local" must be an IP address',
    ],
    [{ METRICS_SOCKPATH: "@metrics" }, 'METRICS_SOCKPATH="@metrics" abstract sockets (@name) are refused'],
    [
      { METRICS_SOCKPATH: "/run/m.sock", METRICS_SOCKMODE: "rw" },
      'METRICS_SOCKMODE="rw" must be octal permission bits',
    ],
  ])("%p", (env, message) => {
    expect(errorOf(env as Record<string, string>)).toContain(message);
  });
});

describe("combinations that would serve somewhere the operator did not mean", () => {
  test.each([
    [{ METRICS_SOCKPATH: "/run/m.sock", METRICS_PORT: "9464" }, "METRICS_SOCKPATH and METRICS_PORT are both set"],
    [{ METRICS_HOST: "127.0.0.1" }, "METRICS_HOST applies only to TCP; set METRICS_PORT too, or unset it"],
    [{ METRICS_SOCKMODE: "0600" }, "METRICS_SOCKMODE applies only to a Unix socket; set METRICS_SOCKPATH too"],
    [
      { METRICS_PORT: "9464", METRICS_SOCKGROUP: "prometheus" },
      "METRICS_SOCKGROUP applies only to a Unix socket; set METRICS_SOCKPATH too",
    ],
    [{ SOCKPATH: "/run/p.sock", METRICS_SOCKPATH: "/run/p.sock" }, "METRICS_SOCKPATH is the same path as SOCKPATH"],
    [{ PORT: "8080", METRICS_PORT: "8080" }, "METRICS_PORT=8080 is the port the service itself listens on"],
    [{ METRICS_PORT: "3000" }, "METRICS_PORT=3000 is the port the service itself listens on"],
    [{ SOCKPATH: "/run/p.sock", TRUST_PROXY: "127.0.0.1" }, "TRUST_PROXY applies only to TCP"],
  ])("%p", (env, message) => {
    expect(errorOf(env as Record<string, string>)).toContain(message);
  });

  test("a metrics socket beside a TCP main listener, and a metrics port beside a socket, are fine", () => {
    expect(loadConfig({ PORT: "8080", METRICS_SOCKPATH: "/run/m.sock" }).metrics?.target.kind).toBe("unix");
    expect(loadConfig({ SOCKPATH: "/run/p.sock", METRICS_PORT: "3000" }).metrics?.target.kind).toBe("tcp");
  });
});

// Configuration: every variable's rule, and how a bad value stops the real program before it binds.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { configWarnings, loadConfig } from "../src/config.ts";
import { errorOf } from "./helpers/config.ts";
import { BINARY, start, startListening, tempDir } from "./helpers/server.ts";

describe("defaults", () => {
  test("TCP on [::]:3000, socket mode 0660, 10 s drain, text log at info, no trusted proxy, /metrics on the main listener", () => {
    expect(loadConfig({})).toEqual({
      main: { prefix: "", listen: { kind: "tcp", host: "::", port: 3000 }, socket: { mode: 0o660, group: undefined } },
      shutdownTimeoutMs: 10_000,
      maxBodyBytes: 16_384,
      idleTimeoutSeconds: 75,
      log: { format: "text", level: "info" },
      trustProxy: [],
      metrics: undefined,
    });
  });

  test("SOCKPATH alone serves on the socket only", () => {
    expect(loadConfig({ SOCKPATH: "/run/printerfacts/printerfacts.sock" }).main.listen).toEqual({
      kind: "unix",
      path: "/run/printerfacts/printerfacts.sock",
    });
  });

  test("PORT and HOST choose the TCP address", () => {
    expect(loadConfig({ PORT: "8080", HOST: "127.0.0.1" }).main.listen).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 8080,
    });
  });

  test("SOCKMODE is octal, SOCKGROUP a name or gid, SHUTDOWN_TIMEOUT seconds", () => {
    const cfg = loadConfig({ SOCKPATH: "/run/x.sock", SOCKMODE: "0600", SOCKGROUP: "www-data", SHUTDOWN_TIMEOUT: "3" });
    expect(cfg.main.socket).toEqual({ mode: 0o600, group: "www-data" });
    expect(cfg.shutdownTimeoutMs).toBe(3000);
    expect(loadConfig({ SOCKPATH: "/run/x.sock", SOCKMODE: "660" }).main.socket.mode).toBe(0o660);
  });
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
    [{ SOCKMODE: "0600" }, "SOCKMODE and SOCKGROUP apply only to a Unix socket"],
  ])("%p", (env, message) => {
    const got = errorOf(env as Record<string, string>);
    expect(got).toStartWith(message);
    expect(got).not.toContain("\n");
  });

  test("a directory too long to bind in privately is refused up front", () => {
    expect(errorOf({ SOCKPATH: `/${"d".repeat(94)}/s.sock` })).toContain("directory; it may be at most 94 bytes");
  });
});

describe("the real binary with bad config", () => {
  test.each([
    [{ PORT: "abc" }, 'config: PORT="abc" must be a whole number from 1 to 65535'],
    [{ PORT: "70000" }, 'config: PORT="70000" must be a whole number'],
    [{ SOCKPATH: `/tmp/${"y".repeat(110)}` }, "bytes; a Unix socket path holds at most 107"],
    [
      { SOCKGROUP: "pf-no-such-group", SOCKPATH: "SOCK" },
      'config: SOCKGROUP="pf-no-such-group" is not a group on this host',
    ],
  ])("%p exits 78 with one line and binds nothing", async (env, message) => {
    const dir = tempDir();
    try {
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, v === "SOCK" ? join(dir.path, "s.sock") : v]),
      );
      const proc = start([BINARY], resolved);
      expect(await proc.exited).toBe(78);
      const lines = proc.stderr().trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
      expect(proc.stderr()).not.toContain("listening");
      expect(readdirSync(dir.path)).toEqual([]);
      expect(existsSync(join(dir.path, "s.sock"))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });
});

describe("command line", () => {
  test("--help lists the variables and exits 0", async () => {
    const proc = start([BINARY, "--help"]);
    expect(await proc.exited).toBe(0);
    for (const name of ["SOCKPATH", "SOCKMODE", "SOCKGROUP", "PORT", "HOST", "SHUTDOWN_TIMEOUT"])
      expect(proc.stdout()).toContain(name);
  });

  test("--version prints the version and runtime and exits 0", async () => {
    const proc = start([BINARY, "--version"]);
    expect(await proc.exited).toBe(0);
    expect(proc.stdout()).toMatch(/^printerfacts \d+\.\d+\.\d+ \(bun \d+\.\d+\.\d+\)\n$/);
  });

  test("an unknown flag exits 64 with one line", async () => {
    const proc = start([BINARY, "--port=80"]);
    expect(await proc.exited).toBe(64);
    expect(proc.stderr()).toBe(
      'printerfacts error: unknown argument "--port=80"; printerfacts takes only --help, --version and check [USER] (configure it with environment variables)\n',
    );
  });
});

describe("a socket every local user may connect to (o+w) starts, with one warning naming the risk", () => {
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

  test("the real binary with SOCKMODE=777: serves, and says once why that is a risk", async () => {
    const dir = tempDir();
    try {
      const sock = join(dir.path, "s.sock");
      const proc = await startListening([BINARY], { SOCKPATH: sock, SOCKMODE: "777" });
      proc.kill();
      expect(await proc.exited).toBe(0);
      const warnings = proc
        .stderr()
        .split("\n")
        .filter((line) => line.startsWith("printerfacts warn:"));
      expect(warnings).toEqual([
        `printerfacts warn: SOCKMODE=0777 lets every local user connect to ${sock} (o+w): any process on this host can reach the service directly, around nginx and its limits; use 0660 and put the proxy's user in the service's group (e.g. adduser www-data printerfacts)`,
      ]);
    } finally {
      dir.cleanup();
    }
  });
});

// Configuration through the real program: a bad value stops it before it binds, and the command
// line. The rules themselves are test/unit/config.test.ts.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BINARY, start, startListening, startService, tempDir } from "./helpers/server.ts";

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
      const proc = startService([BINARY], resolved);
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

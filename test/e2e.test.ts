// The real program, end to end: the compiled binary and the dev entry, on a Unix socket and on
// TCP, spoken to with fetch and with curl, stopped with SIGTERM.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BINARY,
  curl,
  ENTRIES,
  type Entry,
  fetchUnix,
  freePort,
  LISTENING,
  loggedPort,
  serviceDir,
  startListening,
  startService,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

describe.each(Object.keys(ENTRIES) as Entry[])("%s", (entry) => {
  const command = ENTRIES[entry];

  test("on a Unix socket: serves facts to fetch and curl, then SIGTERM removes the socket and exits 0", async () => {
    const sock = join(dir.path, `${entry.replaceAll(/\W/g, "")}.sock`);
    const proc = await startListening(command, { SOCKPATH: sock });
    expect(statSync(sock).isSocket()).toBe(true);

    const viaFetch = await fetchUnix(sock, "/fact");
    expect(viaFetch.status).toBe(200);
    expect(await viaFetch.text()).toMatch(/^.+\n$/);

    const viaCurl = await curl("http://x/fact", { socket: sock });
    expect(viaCurl.exitCode).toBe(0);
    expect(viaCurl.status).toBe(200);
    expect(viaCurl.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(viaCurl.body).toMatch(/^.+\n$/);

    const json = await curl("http://x/facts/1", { socket: sock, args: ["-H", "Accept: application/json"] });
    expect(JSON.parse(json.body)).toMatchObject({ id: 1 });
    expect((await curl("http://x/healthz", { socket: sock })).body).toBe("ok\n");

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(proc.stderr()).toContain(`removed socket ${sock}`);
  });

  test("on TCP: listens on [::] for IPv6 and IPv4 alike, and exits 0 on SIGTERM", async () => {
    const proc = await startListening(command, { PORT: String(await freePort()) });
    const port = loggedPort(proc);
    expect(proc.stderr()).toContain(`listening on http://[::]:${port}`);

    const v6 = await curl(`http://[::1]:${port}/fact`);
    expect(v6.status).toBe(200);
    const v4 = await fetch(`http://127.0.0.1:${port}/fact`, { headers: { Accept: "application/json" } });
    expect(((await v4.json()) as { fact: string }).fact.length).toBeGreaterThan(0);

    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  });

  test("a TCP port another process listens on: one line naming HOST and PORT, and exit 1", async () => {
    const holder = Bun.listen({ hostname: "::", port: 0, socket: { data() {} } });
    try {
      const proc = startService(command, { PORT: String(holder.port) });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toContain(
        `printerfacts error: cannot listen on [::]:${holder.port} (HOST=:: PORT=${holder.port}): another process is listening there\n`,
      );
      expect(proc.stderr()).not.toContain("    at "); // no stack trace
    } finally {
      holder.stop(true);
    }
  });

  test("a TCP port a first instance serves on: the second exits 1 with that line; they never share it", async () => {
    // Two instances of the same program: had both asked for SO_REUSEPORT (Bun.serve does unless
    // told otherwise), the kernel would let both listen and split the connections between them.
    const first = await startListening(command, { PORT: String(await freePort()) });
    const port = loggedPort(first);
    const second = startService(command, { PORT: String(port) });
    try {
      const outcome = await Promise.race([second.exited, waitForLog(second, LISTENING).then(() => "listening")]);
      expect(outcome).toBe(1);
      expect(second.stderr()).toBe(
        `printerfacts error: cannot listen on [::]:${port} (HOST=:: PORT=${port}): another process is listening there\n`,
      );
    } finally {
      second.kill("SIGKILL");
      first.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    }
  });
});

describe("under Deno, which cannot time connections out", () => {
  const deno = ENTRIES["deno (scripts/deno-run)"];
  const warning = "printerfacts warn: IDLE_TIMEOUT=75 is not applied: Deno.serve cannot time out connections";

  test("says so once at start, for the main and the metrics listener together", async () => {
    const proc = await startListening(deno, {
      SOCKPATH: join(dir.path, "deno-warn.sock"),
      METRICS_PORT: String(await freePort()),
    });
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(proc.stderr().split(warning).length - 1).toBe(1);
  });

  test("says nothing when IDLE_TIMEOUT=0 asks for no timeout", async () => {
    const proc = await startListening(deno, { SOCKPATH: join(dir.path, "deno-quiet.sock"), IDLE_TIMEOUT: "0" });
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).not.toContain("warn");
  });
});

describe("the compiled binary", () => {
  test("METRICS_PORT taken: one line naming METRICS_HOST and METRICS_PORT, exit 1, and no socket left at SOCKPATH", async () => {
    const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const sock = join(dir.path, "metrics-port-taken.sock");
    try {
      const proc = startService([BINARY], { SOCKPATH: sock, METRICS_PORT: String(holder.port) });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toBe(
        `printerfacts error: cannot listen on 127.0.0.1:${holder.port} (METRICS_HOST=127.0.0.1 METRICS_PORT=${holder.port}): another process is listening there\n`,
      );
      expect(existsSync(sock)).toBe(false);
    } finally {
      holder.stop(true);
    }
  });

  test("runs from any directory with nothing beside it, ignoring .env and bunfig.toml there", async () => {
    const alone = join(dir.path, "alone");
    serviceDir(alone);
    copyFileSync(BINARY, join(alone, "printerfacts"));
    // Were these read, the service would listen on port 1 or load a preload that does not exist.
    writeFileSync(join(alone, ".env"), "SOCKPATH=\nPORT=1\n");
    writeFileSync(join(alone, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    const sock = join(alone, "p.sock");
    const proc = startService([join(alone, "printerfacts")], { SOCKPATH: sock }, { cwd: alone });
    await waitForLog(proc, LISTENING);
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });
});

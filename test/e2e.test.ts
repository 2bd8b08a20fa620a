// The real program, end to end: the compiled binary and the dev entry, on a Unix socket and on
// TCP, spoken to with fetch and with curl, stopped with SIGTERM.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, curl, ENTRIES, type Entry, fetchUnix, freePort, loggedPort, start, startListening, tempDir, waitForLog } from "./helpers/server.ts";

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
});

describe("the compiled binary", () => {
  test("runs from any directory with nothing beside it, ignoring .env and bunfig.toml there", async () => {
    const alone = join(dir.path, "alone");
    mkdirSync(alone);
    copyFileSync(BINARY, join(alone, "printerfacts"));
    // Were these read, the service would listen on port 1 or load a preload that does not exist.
    writeFileSync(join(alone, ".env"), "SOCKPATH=\nPORT=1\n");
    writeFileSync(join(alone, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    const sock = join(alone, "p.sock");
    const proc = start([join(alone, "printerfacts")], { SOCKPATH: sock }, alone);
    await waitForLog(proc, "listening on");
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });
});

// Limits: clients that stall, a thousand idle connections, running out of file descriptors. The
// service keeps serving everyone else throughout. The variables' rules: test/unit/config.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fdLimit } from "../src/observe/fdwatch.ts";
import { openRaw, type RawConnection, rawExchange, STALLS } from "./helpers/raw.ts";
import { BINARY, ENTRIES, startListening, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

async function healthz(sock: string): Promise<number | undefined> {
  return (await rawExchange(sock, HEALTHZ)).responses[0]?.status;
}

describe("stalled clients", () => {
  /** Hang every stall on a fresh server, serve others meanwhile; the stalls the server left open. */
  async function stallsLeftOpen(name: string, command: readonly string[]): Promise<string[]> {
    const sock = join(dir.path, `stall-${name}.sock`);
    const proc = await startListening(command, { SOCKPATH: sock, IDLE_TIMEOUT: "4" });
    const conns: RawConnection[] = [];
    for (const { send, drip } of Object.values(STALLS)) {
      const conn = await openRaw(sock);
      if (send) await conn.write(send);
      if (drip) {
        const timer = setInterval(() => conn.write(drip).catch(() => {}), 250);
        conn.closed.then(() => clearInterval(timer));
      }
      conns.push(conn);
    }
    // While they hang on, everyone else is served.
    for (let i = 0; i < 20; i++) expect(await healthz(sock)).toBe(200);

    // The server closes every one of them (measured: 0.5-13 s; see README "Reliability").
    await Promise.race([Promise.all(conns.map((c) => c.closed)), Bun.sleep(40_000)]);
    const open = Object.keys(STALLS).filter((_, i) => !conns[i].isClosed());
    for (const c of conns) c.destroy();
    expect(await healthz(sock)).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
    return open;
  }

  test("are cut off by the server while other clients are served, on Bun and Node", async () => {
    // Side by side, since each takes Bun's or Node's header timeout (12-13 s). Deno.serve cuts
    // nothing, so it is not here; see README "Reliability".
    const [bun, node] = await Promise.all([
      stallsLeftOpen("bun", ENTRIES.binary),
      stallsLeftOpen("node", ENTRIES["node dist/node/printerfacts.mjs"]),
    ]);
    expect({ bun, node }).toEqual({ bun: [], node: [] });
  }, 60_000);
});

describe("many connections", () => {
  test("a thousand idle connections do not stop new requests being served", async () => {
    raiseOwnFdLimit(4096);
    const sock = join(dir.path, "idle.sock");
    const proc = await startListening(["prlimit", "--nofile=4096:4096", BINARY], { SOCKPATH: sock });
    const idle: RawConnection[] = [];
    for (let i = 0; i < 1000; i++) {
      idle.push(
        await openRaw(sock).catch((err) => {
          throw new Error(`idle connection ${i} failed: ${err.code ?? err.message}`);
        }),
      );
    }
    for (let i = 0; i < 20; i++) expect(await healthz(sock)).toBe(200);
    expect(idle.filter((c) => c.isClosed()).length).toBe(0);
    for (const c of idle) c.destroy();
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("running out of file descriptors is logged, survived, and its end logged too", async () => {
    const sock = join(dir.path, "fds.sock");
    const proc = await startListening(["prlimit", "--nofile=64:64", BINARY], { SOCKPATH: sock });
    const held: RawConnection[] = [];
    for (let i = 0; i < 100; i++) held.push(await openRaw(sock)); // the kernel queues what the server cannot accept
    await waitForLog(proc, /printerfacts error: file descriptors nearly exhausted: \d+ of 64 open/);
    for (const c of held) c.destroy();
    await waitForLog(proc, /printerfacts info: file descriptors recovered: \d+ of 64 open/);
    expect(await healthz(sock)).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });
});

/** Lift this test process's descriptor limit so it can hold the connections (root may raise the hard one). */
function raiseOwnFdLimit(wanted: number) {
  if ((fdLimit() ?? 0) >= wanted) return;
  const prlimit = (value: string) =>
    spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${value}`], { encoding: "utf8" });
  // The soft limit alone if the hard one allows it, else both.
  let result = prlimit(`${wanted}:`);
  if (result.status !== 0) result = prlimit(`${wanted}:${wanted}`);
  if (result.status !== 0 || (fdLimit() ?? 0) < wanted)
    throw new Error(`cannot raise this process's descriptor limit to ${wanted}: ${result.stderr}`);
}

// Updating without downtime on a runtime that cannot hand over its socket: two instances, one
// socket each, behind one nginx upstream (the shipped site), restarted one at a time while a
// bounded load runs through nginx on loopback. Not one request may fail.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { freePort, selfSignedCert, startNginx } from "./helpers/nginx.ts";
import { BINARY, type Running, startListening, tempDir } from "./helpers/server.ts";

const dir = tempDir();
const stops: Array<() => unknown> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  dir.cleanup();
});

const LOAD = { clients: 4, maxRequests: 20_000, maxMs: 25_000 };

/** Clients that fetch until told to stop or a bound is reached; every answer is recorded. */
function runLoad(url: string) {
  let stopped = false;
  const statuses = new Map<string, number>();
  let total = 0;
  const deadline = Date.now() + LOAD.maxMs;
  const client = async () => {
    while (!stopped && total < LOAD.maxRequests && Date.now() < deadline) {
      total++;
      let outcome: string;
      try {
        const r = await fetch(url, { tls: { rejectUnauthorized: false } } as RequestInit);
        await r.arrayBuffer();
        outcome = String(r.status);
      } catch (err) {
        outcome = `error: ${(err as Error).message}`;
      }
      statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
    }
  };
  const done = Promise.all(Array.from({ length: LOAD.clients }, client));
  return {
    served: () => statuses.get("200") ?? 0,
    statuses: () => Object.fromEntries(statuses),
    async stop() {
      stopped = true;
      await done;
      return { total, statuses: Object.fromEntries(statuses) };
    },
  };
}

/** Wait until `n` more requests have been answered, so each restart happens under load. */
async function whileServing(load: ReturnType<typeof runLoad>, n: number) {
  const target = load.served() + n;
  await eventually(() => load.served() >= target, {
    what: () => `${n} more 200s through nginx; answers so far: ${JSON.stringify(load.statuses())}`,
    timeoutMs: 10_000,
    intervalMs: 10,
  });
}

test("restart instance a, then b, under load through nginx: zero failed requests", async () => {
  const socks = ["a", "b"].map((name) => join(dir.path, `${name}.sock`));
  const env = (sock: string) => ({ SOCKPATH: sock, SOCKGROUP: "nogroup", SHUTDOWN_TIMEOUT: "5" });
  const instances: Running[] = await Promise.all(socks.map((sock) => startListening([BINARY], env(sock))));
  stops.push(() => {
    for (const p of instances) p.kill("SIGKILL");
  });

  const prefix = join(dir.path, "nginx");
  mkdirSync(prefix);
  const httpsPort = await freePort();
  const nginx = await startNginx(prefix, {
    sockets: socks,
    httpPort: await freePort(),
    httpsPort,
    cert: selfSignedCert(dir.path),
  });
  stops.push(() => nginx.stop());

  const load = runLoad(`https://127.0.0.1:${httpsPort}/fact`);
  await whileServing(load, 200);
  for (const [i, sock] of socks.entries()) {
    instances[i].kill("SIGTERM");
    expect(await instances[i].exited).toBe(0);
    await whileServing(load, 100); // the other instance carries everything meanwhile
    instances[i] = await startListening([BINARY], env(sock));
    await whileServing(load, 200);
  }
  const result = await load.stop();

  expect(result.statuses).toEqual({ "200": result.total });
  expect(result.total).toBeGreaterThan(600);
  // Both restarted instances answered requests through the upstream afterwards.
  const upstreams = nginx.siteLog().trim().split("\n").slice(-100).join("\n");
  for (const sock of socks) expect(upstreams).toContain(`unix:${sock}`);
}, 60_000);

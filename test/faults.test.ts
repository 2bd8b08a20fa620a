// Faults: errors in handlers and outside them, SIGKILL and SIGTERM in the middle of load. Nothing
// that was accepted is lost, and the service is never left unable to start again.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { EXIT } from "../src/cli/exit.ts";
import { eventually } from "./helpers/eventually.ts";
import { openRaw, rawExchange } from "./helpers/raw.ts";
import { BINARY, ROOT, startListening, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const FIXTURE = [process.execPath, join(ROOT, "test/fixtures/failing-main.ts")];
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

describe("errors", () => {
  test("a handler that throws gives a 500 carrying the request id, its stack is logged, serving goes on", async () => {
    const sock = join(dir.path, "handler.sock");
    const proc = await startListening(FIXTURE, { SOCKPATH: sock });
    const { responses } = await rawExchange(sock, GET("/fail/handler"));
    expect(responses[0].status).toBe(500);
    const id = responses[0].headers["x-request-id"];
    expect(id).toMatch(/^[\w-]{8,}$/);
    expect(responses[0].body).toBe(`internal error; request id ${id}\n`);
    expect(responses[0].body).not.toContain("on purpose"); // the cause stays in the log
    await waitForLog(proc, `request ${id} GET /fail/handler failed: Error: handler failed on purpose`);
    expect(proc.stderr()).toMatch(/failed on purpose\n\s+at /); // with its stack

    expect((await rawExchange(sock, GET("/healthz"))).responses[0].status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("an error before the app sees the request is a plain 500, logged, never Bun's error page", async () => {
    const sock = join(dir.path, "outside.sock");
    const proc = await startListening(FIXTURE, { SOCKPATH: sock, NODE_ENV: "development" });
    const { responses } = await rawExchange(sock, GET("/fail/outside-app"));
    expect(responses[0].status).toBe(500);
    expect(responses[0].body).toBe("internal error\n");
    await waitForLog(
      proc,
      "printerfacts error: request failed outside the app: Error: failed outside the app on purpose",
    );
    expect((await rawExchange(sock, GET("/healthz"))).responses[0].status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test.each([
    ["/fail/timer", "uncaught exception, exiting: Error: timer failed on purpose"],
    ["/fail/promise", "unhandled rejection, exiting: Error: promise rejected on purpose"],
  ])("an error outside any request (%s) is logged and exits non-zero for systemd to restart", async (path, logged) => {
    const sock = join(dir.path, "fatal.sock");
    const proc = await startListening(FIXTURE, { SOCKPATH: sock });
    expect((await rawExchange(sock, GET(path))).responses[0].status).toBe(200);
    expect(await proc.exited).toBe(EXIT.software);
    expect(proc.stderr()).toContain(`printerfacts error: ${logged}`);
    // What it leaves behind is a stale socket, which the next start recovers.
    const again = await startListening(FIXTURE, { SOCKPATH: sock });
    expect(again.stderr()).toContain("stale");
    again.kill();
    expect(await again.exited).toBe(0);
  });
});

/** Clients that each send one request per connection, as nginx does, and count what happened. */
function load(target: string, clients: number, path: string) {
  // reset: a connect that got ECONNRESET, which only a crash (SIGKILL with connections still in
  // the kernel's accept queue) may cause; a proxy retries it like a refusal (nothing was sent).
  const counts = { sent: 0, answered: 0, refused: 0, reset: 0, lost: 0 };
  const lostDetails: string[] = [];
  let running = true;
  const one = async () => {
    let conn: Awaited<ReturnType<typeof openRaw>>;
    try {
      conn = await openRaw(target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // No socket any more, or nobody accepting: the client can try elsewhere. Not a loss.
      if (code === "ENOENT" || code === "ECONNREFUSED") counts.refused++;
      else if (code === "ECONNRESET") counts.reset++;
      else throw err;
      return;
    }
    counts.sent++;
    conn.write(GET(path)).catch(() => {});
    // Bounded: a connection the server never answers nor closes counts as lost.
    let timer: Timer | undefined;
    const closed = await Promise.race([
      conn.closed,
      new Promise<{ error: string }>((done) => {
        timer = setTimeout(() => done({ error: "neither answered nor closed in 10 s" }), 10_000);
      }),
    ]);
    clearTimeout(timer);
    conn.destroy();
    const [response] = conn.responses();
    if (response?.status === 200 && response.body.endsWith("\n")) counts.answered++;
    else {
      counts.lost++;
      lostDetails.push(`${closed.error ?? "closed"}: ${JSON.stringify(conn.received().slice(0, 80))}`);
    }
  };
  const workers = Array.from({ length: clients }, async () => {
    while (running) {
      await one();
      // Pacing, not waiting: keeps the refused connects bounded once the server is gone.
      if (counts.refused + counts.reset > 0) await Bun.sleep(5);
    }
  });
  return {
    counts,
    lostDetails,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** A server on a fresh socket with 8 clients, once `warmup` requests have been answered. */
async function serveUnderLoad(name: string, command: readonly string[], path: string, warmup: number) {
  const sock = join(dir.path, name);
  const proc = await startListening(command, { SOCKPATH: sock });
  const traffic = load(sock, 8, path);
  await eventually(() => traffic.counts.answered >= warmup, {
    what: () => `${warmup} answers; so far ${JSON.stringify(traffic.counts)}`,
    timeoutMs: 10_000,
  });
  return { sock, proc, traffic };
}

describe("under load", () => {
  test("SIGTERM: every request that was accepted gets its complete response", async () => {
    // Each request takes 250 ms, longer than the pause after the socket is removed, so about 8
    // are in flight when the listener is closed.
    const { sock, proc, traffic } = await serveUnderLoad("term.sock", FIXTURE, "/slow?ms=250", 24);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await eventually(() => traffic.counts.refused >= 20, {
      what: () => `20 refused connects; so far ${JSON.stringify(traffic.counts)}`,
      timeoutMs: 10_000,
    });
    await traffic.stop();
    console.log(`SIGTERM under load: ${JSON.stringify(traffic.counts)}`);
    expect(traffic.lostDetails).toEqual([]);
    expect(traffic.counts.reset).toBe(0);
    expect(traffic.counts.answered).toBe(traffic.counts.sent);
    expect(existsSync(sock)).toBe(false);
  });

  test("SIGKILL: the socket is left behind, and a new start recovers it and serves", async () => {
    const { sock, proc, traffic } = await serveUnderLoad("kill.sock", [BINARY], "/fact", 300);
    proc.kill("SIGKILL");
    expect(await proc.exited).toBe(137);
    // Connect now fails: nobody is there.
    await eventually(() => traffic.counts.refused >= 20, {
      what: () => `20 refused connects; so far ${JSON.stringify(traffic.counts)}`,
      timeoutMs: 10_000,
    });
    expect(statSync(sock).isSocket()).toBe(true);

    const again = await startListening([BINARY], { SOCKPATH: sock });
    expect(again.stderr()).toContain(`removed stale socket ${sock}`);
    const before = traffic.counts.answered;
    // The same clients are served again.
    await eventually(() => traffic.counts.answered >= before + 100, {
      what: () => `100 more answers after the restart; so far ${JSON.stringify(traffic.counts)}`,
      timeoutMs: 10_000,
    });
    await traffic.stop();
    console.log(`SIGKILL under load, then restart: ${JSON.stringify(traffic.counts)}`);
    again.kill();
    expect(await again.exited).toBe(0);
  });
});

// The readers of the service's logs fail it, it keeps serving: a stdout pipe nobody reads, a
// socketpair (as journald's stream is) whose reader pauses and comes back, a stderr whose reader is
// gone, stdout and stderr on one pipe whose reader exits. On every runtime, run as an operator runs
// it (an unprivileged user, the shipped umask), over its real socket; SIGTERM still drains, exits
// 0 within SHUTDOWN_TIMEOUT and removes the socket.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import {
  BINARY,
  fetchUnix,
  LISTENING,
  type Running,
  SHIPPED,
  type Stdio,
  runtimeDir,
  startListening,
  startService,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

const SHUTDOWN_TIMEOUT = 5;
/** Well past what the access log's buffer (1 MiB) and a pipe or socketpair hold, at ~400 bytes a line. */
const REQUESTS = 4000;
const REQUEST_ID = "r".repeat(250);

let n = 0;

/** Its own runtime directory and settings; startService runs it as its unit does (the service user, the shipped umask). */
function operator() {
  const sock = runtimeDir(dir.path, `logs${++n}`);
  return { sock, env: { SOCKPATH: sock, SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT) } };
}

/** A real pipe (a FIFO): the write end for the service, a non-blocking read end that the test holds. */
function pipe() {
  const path = join(dir.path, `fifo${++n}`);
  Bun.spawnSync(["mkfifo", path]);
  const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(path, constants.O_WRONLY);
  let text = "";
  const chunk = Buffer.alloc(1 << 16);
  return {
    write,
    read,
    /** Whatever has arrived so far. */
    drain(): string {
      for (;;) {
        try {
          const got = readSync(read, chunk);
          if (got === 0) return text;
          text += chunk.toString("utf8", 0, got);
        } catch {
          return text; // EAGAIN: nothing more for now
        }
      }
    },
  };
}

/** `total` GET /fact with a 250-byte X-Request-Id over 8 keep-alive connections; the statuses seen. */
async function load(sock: string, total: number): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let sent = 0;
  const client = async () => {
    while (sent < total) {
      sent++;
      const res = await fetchUnix(sock, "/fact", {
        headers: { "X-Request-Id": REQUEST_ID },
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
  return statuses;
}

async function dropped(sock: string, stream: "stdout" | "stderr"): Promise<number> {
  const text = await (await fetchUnix(sock, "/metrics", { signal: AbortSignal.timeout(5000) })).text();
  const m = text.match(new RegExp(`^printerfacts_log_lines_dropped_total\\{stream="${stream}"\\} (\\d+)$`, "m"));
  if (!m) throw new Error(`no dropped-lines counter for ${stream} in:\n${text}`);
  return Number(m[1]);
}

async function healthz(sock: string): Promise<number> {
  return (await fetchUnix(sock, "/healthz", { signal: AbortSignal.timeout(5000) })).status;
}

/** SIGTERM: exit 0 within SHUTDOWN_TIMEOUT, and the socket is gone. */
async function stopsCleanly(proc: Running, sock: string) {
  const started = Date.now();
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(SHUTDOWN_TIMEOUT * 1000 + 2000).then(() => "hung")]);
  expect(code).toBe(0);
  expect(Date.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT * 1000);
  expect(existsSync(sock)).toBe(false);
}

/** Started with the caller's stdio; ready once its socket answers (its stderr may be nobody's to read). */
async function startWith(command: readonly string[], stdio: Stdio) {
  const { sock, env } = operator();
  const proc = startService(command, env, { stdio });
  await eventually(async () => existsSync(sock) && (await healthz(sock).catch(() => 0)) === 200, {
    what: () => `/healthz to answer 200 on ${sock}; stderr:\n${proc.stderr()}`,
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  return { sock, proc };
}

describe.each(SHIPPED)("%s", (_name, command) => {
  test("stdout is a pipe nobody reads: every request answered, lines dropped and counted, SIGTERM exits 0 at once", async () => {
    const out = pipe();
    const { sock, env } = operator();
    const proc = startService(command, env, { stdio: { stdout: out.write } });
    await waitForLog(proc, LISTENING, 15_000);
    expect(await load(sock, REQUESTS)).toEqual({ 200: REQUESTS });
    expect(await healthz(sock)).toBe(200);
    expect(await dropped(sock, "stdout")).toBeGreaterThan(0);
    expect(await dropped(sock, "stderr")).toBe(0);
    await stopsCleanly(proc, sock); // with the pipe still full: the final flush does not hold the exit
    expect(proc.stderr()).toContain("printerfacts info: stopped\n");
    closeSync(out.write);
    closeSync(out.read);
  }, 60_000);

  test("stdout is a socketpair (as journald's) whose reader pauses: lines dropped; when it reads again, one line says how many", async () => {
    const { sock, env } = operator();
    const proc = startService(command, env);
    await waitForLog(proc, LISTENING, 15_000);
    proc.child.stdout?.pause();
    expect(await load(sock, REQUESTS)).toEqual({ 200: REQUESTS });
    expect(await healthz(sock)).toBe(200);
    const count = await dropped(sock, "stdout");
    expect(count).toBeGreaterThan(0);
    expect(proc.stderr()).not.toContain("lines dropped");

    proc.child.stdout?.resume();
    await waitForLog(proc, /access log: \d+ lines dropped while stdout's reader was not keeping up\n/);
    const reported = Number(proc.stderr().match(/access log: (\d+) lines dropped/)?.[1]);
    expect(reported).toBeGreaterThanOrEqual(count); // the /metrics and /healthz lines above may be among them
    expect(proc.stderr().match(/lines dropped/g)?.length).toBe(1);
    // What was kept arrives whole: every line a complete access line.
    const lines = proc.stdout().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => !/^time=\S+ method=GET path=\/\S* status=200 .* client=\S+$/.test(l))).toEqual([]);
    await stopsCleanly(proc, sock);
  }, 60_000);

  test("stderr's reader is gone: lines to it are dropped, serving goes on, SIGTERM exits 0", async () => {
    const err = pipe();
    const { sock, proc } = await startWith(command, { stderr: err.write });
    await eventually(() => LISTENING.test(err.drain()), { what: "the listening line on stderr", timeoutMs: 10_000 });
    closeSync(err.read);
    closeSync(err.write);
    proc.kill("SIGHUP"); // one line to write: it meets EPIPE
    await eventually(async () => (await dropped(sock, "stderr")) > 0, { what: "the SIGHUP line to be dropped" });
    expect(await load(sock, 200)).toEqual({ 200: 200 });
    expect(await healthz(sock)).toBe(200);
    expect(await dropped(sock, "stderr")).toBeGreaterThan(0);
    await stopsCleanly(proc, sock);
  }, 60_000);

  test("stdout and stderr on one pipe whose reader exits: serving goes on, SIGTERM exits 0, no stale socket", async () => {
    const both = pipe();
    const { sock, proc } = await startWith(command, { stdout: both.write, stderr: both.write });
    await eventually(() => LISTENING.test(both.drain()), { what: "the listening line on the pipe", timeoutMs: 10_000 });
    closeSync(both.read);
    closeSync(both.write);
    expect(await load(sock, 200)).toEqual({ 200: 200 });
    expect(await healthz(sock)).toBe(200);
    expect(await dropped(sock, "stdout")).toBeGreaterThan(0);
    await stopsCleanly(proc, sock);
  }, 60_000);
});

test("readers that keep up get every line, the last ones too: SIGTERM lets them out before exiting", async () => {
  const { sock, env } = operator();
  const proc = await startListening([BINARY], env);
  expect(await load(sock, 10)).toEqual({ 200: 10 });
  await stopsCleanly(proc, sock);
  expect(proc.stdout().split("\n").filter(Boolean).length).toBe(10);
  expect(proc.stderr()).toContain("printerfacts info: stopped\n");
});

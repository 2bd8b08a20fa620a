// Stray signals, on every runtime, to the service as an operator runs it (the service user, the
// shipped umask): SIGHUP, SIGUSR1 and SIGUSR2 are logged and ignored, and it serves on; SIGQUIT
// drains like SIGTERM. SIGUSR1 opens no inspector on Node or Bun; Deno opens one and cannot be told
// not to (pinned here, see docs/runtime-issues.md). Each runs in a network namespace of its own,
// so that 127.0.0.1:9229 is its alone (the socket, a path, is reached as usual).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { eventually } from "./helpers/eventually.ts";
import { fetchUnix, type Running, runtimeDir, SHIPPED, startListening, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

const SHUTDOWN_TIMEOUT = 5;

let n = 0;
async function serve(command: readonly string[]): Promise<{ sock: string; proc: Running }> {
  const sock = runtimeDir(dir.path, `sig${++n}`);
  // A network namespace of its own (made as root), then the service user inside it.
  const proc = await startListening(
    command,
    { SOCKPATH: sock, SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT) },
    { wrapper: ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] },
  );
  return { sock, proc };
}

async function healthz(sock: string): Promise<number> {
  return (await fetchUnix(sock, "/healthz", { signal: AbortSignal.timeout(5000) })).status;
}

/** What answers on 127.0.0.1:9229 in the process's network namespace: curl's exit code and output. */
async function inspectorPort(pid: number) {
  const curl = Bun.spawn(
    ["nsenter", "-t", String(pid), "-n", "curl", "-sS", "--max-time", "3", "http://127.0.0.1:9229/json/list"],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, exitCode] = await Promise.all([new Response(curl.stdout).text(), curl.exited]);
  return { exitCode, out };
}

async function stopsCleanly(proc: Running, sock: string) {
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(existsSync(sock)).toBe(false);
}

describe.each(SHIPPED)("%s", (name, command) => {
  test.each([
    ["SIGHUP", "SIGHUP ignored: there is no configuration to reload"],
    ["SIGUSR2", "SIGUSR2 ignored: it has no meaning here"],
  ] as const)("%s: one line says it is ignored, and it serves on; SIGTERM still drains", async (signal, line) => {
    const { sock, proc } = await serve(command);
    proc.kill(signal);
    await waitForLog(proc, `printerfacts warn: ${line}`);
    proc.kill(signal); // and again: still nothing but the line
    await eventually(() => proc.stderr().split(`printerfacts warn: ${line}`).length - 1 === 2, {
      what: "the second signal's line",
    });
    expect(await healthz(sock)).toBe(200);
    await stopsCleanly(proc, sock);
    expect(proc.stderr().split(`printerfacts warn: ${line}`).length - 1).toBe(2);
  });

  test("SIGQUIT: a graceful stop, as nginx takes it: drain, remove the socket, exit 0", async () => {
    const { sock, proc } = await serve(command);
    expect(await healthz(sock)).toBe(200);
    proc.kill("SIGQUIT");
    expect(await proc.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(proc.stderr()).toContain(
      `printerfacts info: SIGQUIT: shutting down, draining for up to ${SHUTDOWN_TIMEOUT}s`,
    );
    expect(proc.stderr()).toContain("printerfacts info: all requests finished\n");
    expect(proc.stderr()).toContain("printerfacts info: stopped\n");
  });

  if (name !== "deno") {
    test("SIGUSR1: ignored, and no inspector listens or answers on 127.0.0.1:9229", async () => {
      const { sock, proc } = await serve(command);
      expect((await inspectorPort(proc.pid)).exitCode).toBe(7); // curl: failed to connect
      await Bun.sleep(600); // past the moment a runtime might install its own SIGUSR1 handler
      proc.kill("SIGUSR1");
      await waitForLog(proc, "printerfacts warn: SIGUSR1 ignored: it has no meaning here, and opens no inspector");
      await Bun.sleep(500); // a fixed wait on purpose: an inspector would be listening by then (Deno's is, below)
      expect(await inspectorPort(proc.pid)).toEqual({ exitCode: 7, out: "" });
      expect(proc.stderr()).not.toContain("Debugger");
      expect(await healthz(sock)).toBe(200);
      await stopsCleanly(proc, sock);
    });
  } else {
    test("SIGUSR1: Deno opens its inspector on 127.0.0.1:9229 whatever the program does (pinned: runtime-issues.md); it says so, and serves on", async () => {
      const { sock, proc } = await serve(command);
      await Bun.sleep(600); // Deno installs its SIGUSR1 handler 500 ms after the start
      proc.kill("SIGUSR1");
      await waitForLog(proc, "printerfacts warn: SIGUSR1: Deno opens its inspector on 127.0.0.1:9229");
      await waitForLog(proc, "Debugger listening on ws://127.0.0.1:9229/");
      const inspector = await inspectorPort(proc.pid);
      expect(inspector.exitCode).toBe(0);
      expect(inspector.out).toContain("webSocketDebuggerUrl");
      expect(await healthz(sock)).toBe(200);
      await stopsCleanly(proc, sock);
    });
  }
});

// Starting and talking to real printerfacts processes: the compiled binary or a source entry,
// on a real socket or TCP port, observed through their own log lines.
import { type ChildProcess, spawn as spawnProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { eventually } from "./eventually.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/printerfacts");
export const BUN = process.execPath;

export const NODE_BUNDLE = join(ROOT, "dist/node/printerfacts.mjs");
/**
 * The native deno executable. node_modules/.bin/deno may be npm's node wrapper, which would sit
 * between us and deno: signals would stop at it, and LISTEN_PID would name it.
 */
export const DENO: string = createRequire(import.meta.url)("deno/install_api.cjs").runInstall();
/** scripts/deno-run, with the native deno, as the README says to run it. */
export const denoRun = (...args: string[]) => ["env", `DENO=${DENO}`, join(ROOT, "scripts/deno-run"), ...args];

/** Every way the service is started: each runtime, and Bun's compiled binary. */
export const ENTRIES = {
  binary: [BINARY],
  "bun src/main.ts": [BUN, join(ROOT, "src/main.ts")],
  "node dist/node/printerfacts.mjs": ["node", NODE_BUNDLE],
  "deno (scripts/deno-run)": denoRun(),
} as const satisfies Record<string, readonly string[]>;

export type Entry = keyof typeof ENTRIES;

/** The three ways the service ships, for the tests run on each: Bun's compiled binary, Node's bundle, Deno from source. */
export const SHIPPED = [
  ["bun", ENTRIES.binary],
  ["node", ENTRIES["node dist/node/printerfacts.mjs"]],
  ["deno", ENTRIES["deno (scripts/deno-run)"]],
] as const;

export interface TempDir {
  path: string;
  /** A socket path in it that no other call has given out: `${prefix}${n}.sock`. */
  socketPath(prefix: string): string;
  cleanup(): void;
}

/** A temp dir others may traverse (0755), so a test can connect as another user. */
export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), "pf-test-"));
  chmodSync(path, 0o755);
  let sockets = 0;
  return {
    path,
    socketPath: (prefix) => join(path, `${prefix}${++sockets}.sock`),
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  };
}

export interface Running {
  pid: number;
  /** Everything the process has written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or 128+signal number). */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): void;
  /** The process itself: its stdout stream (when piped) can be paused, as a stalled reader. */
  child: ChildProcess;
}

/** Every process start() made that has not exited yet. */
const live = new Set<ChildProcess>();

/**
 * Kills what is still running: test/setup.ts calls it when the run ends, so a test that fails
 * before its own kill() leaves no server running behind it. (bun test emits no "exit" event.)
 */
export function killLeftovers(): void {
  for (const child of live) child.kill("SIGKILL");
}

/** Where the process's stdout and stderr go: a pipe read here (the default), or an fd of the caller's. */
export interface Stdio {
  stdout?: "pipe" | number;
  stderr?: "pipe" | number;
}

export function start(
  command: readonly string[],
  env: Record<string, string> = {},
  cwd = ROOT,
  stdio: Stdio = {},
): Running {
  const child = spawnProcess(command[0], command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", stdio.stdout ?? "pipe", stdio.stderr ?? "pipe"],
  });
  live.add(child);
  child.on("close", () => live.delete(child));
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const signals: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGUSR2: 12,
    SIGTERM: 15,
  };
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? 128 + (signals[signal ?? ""] ?? 0))),
  );
  return {
    pid: child.pid ?? -1,
    stderr: () => err,
    stdout: () => out,
    exited,
    kill: (signal = "SIGTERM") => {
      child.kill(signal);
    },
    child,
  };
}

/** Wait until the process logs `pattern` on stderr; fails with its output if it exits first. */
export async function waitForLog(proc: Running, pattern: RegExp | string, timeoutMs = 10_000): Promise<void> {
  const matches = () => (typeof pattern === "string" ? proc.stderr().includes(pattern) : pattern.test(proc.stderr()));
  let exitCode: number | undefined;
  proc.exited.then((code) => {
    exitCode = code;
  });
  await eventually(
    () => {
      if (matches()) return true;
      if (exitCode !== undefined)
        throw new Error(`process exited with ${exitCode} before logging ${pattern}:\n${proc.stderr()}`);
      return false;
    },
    { what: () => `${pattern} on stderr; stderr so far:\n${proc.stderr()}`, timeoutMs },
  );
}

/** Start a server and wait until it is listening. */
/** The service's own "listening on" line, not another line that happens to contain the words. */
export const LISTENING = /^printerfacts info: listening on /m;

export async function startListening(command: readonly string[], env: Record<string, string>): Promise<Running> {
  const proc = start(command, env);
  await waitForLog(proc, LISTENING);
  return proc;
}

/** A port that was free a moment ago (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = server.port ?? 0;
  await server.stop(true);
  return port;
}

/** The TCP port a server logged that it bound (PORT=0 lets the kernel pick). */
export function loggedPort(proc: Running): number {
  const m = proc.stderr().match(/listening on http:\/\/\S+:(\d+)/);
  if (!m) throw new Error(`no TCP port in log:\n${proc.stderr()}`);
  return Number(m[1]);
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  exitCode: number;
  stderr: string;
}

/** Real curl, over a Unix socket when `socket` is given. `as` runs it as another uid:gid. */
export async function curl(
  url: string,
  opts: { socket?: string; args?: string[]; as?: { uid: number; gid: number } } = {},
): Promise<CurlResult> {
  const argv = [
    "curl",
    "-sS",
    "-i",
    "--max-time",
    "10",
    ...(opts.socket ? ["--unix-socket", opts.socket] : []),
    ...(opts.args ?? []),
    url,
  ];
  const command = opts.as
    ? ["setpriv", `--reuid=${opts.as.uid}`, `--regid=${opts.as.gid}`, "--clear-groups", ...argv]
    : argv;
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  const [raw, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const split = raw.indexOf("\r\n\r\n");
  const head = split === -1 ? "" : raw.slice(0, split);
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(" ")[1] ?? 0),
    headers,
    body: split === -1 ? "" : raw.slice(split + 4),
    exitCode,
    stderr,
  };
}

/** fetch over a Unix socket (Bun's fetch takes `unix`). */
export function fetchUnix(socket: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://localhost${path}`, { ...init, unix: socket } as RequestInit);
}

// Starting and talking to real printerfacts processes: the compiled binary or a source entry,
// on a real socket or TCP port, observed through their own log lines.
import { type ChildProcess, spawnSync, spawn as spawnProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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

// ---- the service, as an operator runs it ----

/**
 * The user and group the tests run the service as, as the units run it as printerfacts: nobody,
 * unprivileged. Root would hide what the service user may not do (enter a 0700 directory, chown a
 * socket to a group it is not in, remove a file in a directory it does not own).
 */
export const SERVICE = { uid: 65534, gid: 65534, group: "nogroup" } as const;
const IS_ROOT = process.getuid?.() === 0;

const UNIT = join(ROOT, "deploy/systemd/printerfacts@.service");
let umaskOfUnit: string | undefined;
/** The unit's UMask= (the shipped umask), so the tests follow the unit when it changes; read once. */
export function shippedUmask(): string {
  if (umaskOfUnit === undefined) {
    const m = readFileSync(UNIT, "utf8").match(/^UMask=(0[0-7]{3})$/m);
    if (!m) throw new Error(`${UNIT} no longer has a UMask= line`);
    umaskOfUnit = m[1];
  }
  return umaskOfUnit;
}

/** `path`, given to the service user when the tests run as root. */
function ownedByService(path: string): string {
  if (IS_ROOT) chownSync(path, SERVICE.uid, SERVICE.gid);
  return path;
}

/**
 * `command` as printerfacts@.service runs it: as SERVICE, in `groups` (gids, as
 * SupplementaryGroups= gives them) and no other, under `umask` (the shipped one unless given).
 * A suite run by a non-root user runs it as that user.
 */
export function asService(
  command: readonly string[],
  { groups = [], umask = shippedUmask() }: { groups?: number[]; umask?: string } = {},
): string[] {
  const user = IS_ROOT
    ? [
        "setpriv",
        `--reuid=${SERVICE.uid}`,
        `--regid=${SERVICE.gid}`,
        groups.length ? `--groups=${groups.join(",")}` : "--clear-groups",
        "--",
      ]
    : [];
  return [...user, "sh", "-c", `umask ${umask} && exec "$@"`, "sh", ...command];
}

/** Why the service user cannot read the checkout it is run from (one line), or undefined if it can. */
export function checkoutUnreachable(): string | undefined {
  if (!IS_ROOT) return undefined;
  const [command, ...args] = asService(["test", "-r", join(ROOT, "package.json")]);
  const r = spawnSync(command, args);
  if (r.status === 0) return undefined;
  return `the tests run the service as uid ${SERVICE.uid} (nobody), which cannot read ${ROOT}: clone it where every user may read it (not under a 0700 home such as /root)`;
}

/**
 * The unit's RuntimeDirectory=printerfacts-NAME (0750, owned by the service's user and group)
 * under `base`; returns the socket path in it.
 */
export function runtimeDir(base: string, name: string): string {
  return join(serviceDir(join(base, `printerfacts-${name}`), 0o750), "printerfacts.sock");
}

/** A directory the service user owns (mode as given), as a unit's RuntimeDirectory= would be. */
export function serviceDir(path: string, mode = 0o755): string {
  mkdirSync(path, { mode });
  return ownedByService(path);
}

let denoCache: string | undefined;
/** The service user's environment: no home (as the units give it), a Deno cache it may write, one per run. */
export function serviceEnv(): Record<string, string> {
  denoCache ??= ownedByService(mkdtempSync(join(tmpdir(), "pf-deno-cache-")));
  return { HOME: "/nonexistent", DENO_DIR: denoCache };
}

/** Removes the run's Deno cache: test/setup.ts calls it when the run ends. */
export function removeServiceCache(): void {
  if (denoCache !== undefined) rmSync(denoCache, { recursive: true, force: true });
}

export interface ServiceOptions {
  groups?: number[];
  umask?: string;
  /** argv run as root in front of the service user (unshare, strace), passing the environment on. */
  wrapper?: readonly string[];
  cwd?: string;
  stdio?: Stdio;
}

/** start(), for the service itself: as printerfacts@.service runs it (asService), in serviceEnv(). */
export function startService(
  command: readonly string[],
  env: Record<string, string> = {},
  { groups, umask, wrapper = [], cwd, stdio }: ServiceOptions = {},
): Running {
  return start([...wrapper, ...asService(command, { groups, umask })], { ...serviceEnv(), ...env }, cwd, stdio);
}

export interface TempDir {
  path: string;
  /** A socket path in it that no other call has given out: `${prefix}${n}.sock`. */
  socketPath(prefix: string): string;
  cleanup(): void;
}

/** A temp dir the service user owns (it binds its sockets here) and others may traverse (0755). */
export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), "pf-test-"));
  chmodSync(path, 0o755);
  ownedByService(path);
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

/** The service's own "listening on" line, not another line that happens to contain the words. */
export const LISTENING = /^printerfacts info: listening on /m;

/** startService(), once the service says it is listening. */
export async function startListening(
  command: readonly string[],
  env: Record<string, string> = {},
  options: ServiceOptions = {},
): Promise<Running> {
  const proc = startService(command, env, options);
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

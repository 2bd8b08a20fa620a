// Socket safety, shared by every runtime adapter: what may be replaced at SOCKPATH, how the socket
// is bound so that it is never more open than SOCKMODE, and which socket we may remove on exit.
// node:net and node:child_process are imported only when needed (a socket already at SOCKPATH, a
// group given by name): each costs Bun milliseconds and megabytes at every start (see
// test/startup.test.ts).
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "../config.ts";
import { fnv1a } from "../hash.ts";
import type { Logger } from "../types.ts";

/** Startup refused because of what is (or is not) at SOCKPATH. */
export class SocketError extends Error {
  override name = "SocketError";
}

/** How long a connect may take before a silent socket is taken as held by a live process. */
const PROBE_TIMEOUT_MS = 1000;

/** Device and inode of the socket we bound: on exit we remove SOCKPATH only if it is still this. */
export interface SocketIdentity {
  dev: number;
  ino: number;
}

type Probe = "live" | "refused" | "gone";

async function probe(path: string): Promise<Probe> {
  const { createConnection } = await import("node:net");
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path });
    const done = (result: Probe) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(result);
    };
    // A socket that neither accepts nor refuses has an owner that is alive but busy.
    const timer = setTimeout(() => done("live"), PROBE_TIMEOUT_MS);
    conn.once("connect", () => done("live"));
    conn.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") return done("refused");
      if (err.code === "ENOENT") return done("gone");
      clearTimeout(timer);
      conn.destroy();
      reject(
        new SocketError(
          `cannot tell whether ${path} is in use: connecting to it failed with ${err.code ?? err.message}`,
        ),
      );
    });
  });
}

function describe(st: fs.Stats): string {
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isDirectory()) return "a directory";
  if (st.isFile()) return "a regular file";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a socket";
}

function checkDirectory(path: string) {
  const dir = dirname(path);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new SocketError(
        `the directory ${dir} for SOCKPATH does not exist; create it first (under systemd: RuntimeDirectory=printerfacts gives /run/printerfacts)`,
      );
    }
    throw new SocketError(`cannot use the directory ${dir} for SOCKPATH: ${code ?? err}`);
  }
  if (!st.isDirectory()) throw new SocketError(`${dir} in SOCKPATH is not a directory`);
}

/**
 * Decide whether SOCKPATH may be bound. Never follows a link. Returns "stale" for a socket nobody
 * answers on (safe to replace); throws, touching nothing, for a live socket or anything else.
 */
export async function inspectSocketPath(path: string): Promise<"free" | "stale"> {
  checkDirectory(path);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "free";
    throw new SocketError(`cannot inspect ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  if (!st.isSocket()) {
    throw new SocketError(
      `${path} exists and is ${describe(st)}, not a socket; refusing to touch it: move it away or choose another SOCKPATH`,
    );
  }
  switch (await probe(path)) {
    case "live":
      throw new SocketError(`another process is serving on ${path}; stop it first or choose another SOCKPATH`);
    case "gone":
      return "free";
    case "refused":
      return "stale";
  }
}

/** SOCKGROUP (or METRICS_SOCKGROUP, named by `variable`) as a gid, checked before anything is bound. */
export async function resolveGroup(group: string, variable = "SOCKGROUP"): Promise<number> {
  let gid: number;
  if (/^\d+$/.test(group)) {
    gid = Number(group);
  } else {
    // getent asks NSS, so groups from LDAP or systemd-userdb resolve as well as /etc/group.
    const { execFileSync } = await import("node:child_process");
    let entry: string;
    try {
      // No environment: getent needs none, and Deno would otherwise need --allow-env for all of it.
      entry = execFileSync("getent", ["group", group], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        env: {},
      });
    } catch {
      throw new ConfigError(
        `${variable}=${JSON.stringify(group)} is not a group on this host (getent group ${group} found nothing)`,
      );
    }
    gid = Number(entry.split(":")[2]);
  }
  const isRoot = process.getuid?.() === 0;
  if (!isRoot && process.getgid?.() !== gid && !process.getgroups?.().includes(gid)) {
    throw new ConfigError(
      `${variable}=${JSON.stringify(group)} cannot be used: this process is not in group ${gid}, so it may not give the socket to it: add the user to that group (under systemd: SupplementaryGroups=) or choose another ${variable}`,
    );
  }
  return gid;
}

/** A socket in a world-writable directory can be pre-empted by any user, and is often invisible to nginx. */
export function worldWritableWarning(path: string): string | undefined {
  const dir = dirname(path);
  if ((fs.statSync(dir).mode & 0o002) === 0) return undefined;
  return `SOCKPATH is in ${dir}, which every user may write to: another user can take the name first, and under systemd nginx often has a private /tmp and cannot see it; use /run/printerfacts/ (RuntimeDirectory=printerfacts)`;
}

/**
 * The directory the socket is first bound in: beside SOCKPATH and named after it, so that every
 * start uses the same path (Deno's --allow-net=unix:PATH takes exact paths only) and two sockets in
 * one directory never share it. Always 10 bytes long, which config.ts counts on.
 */
export function privateDirFor(path: string): string {
  return join(dirname(path), `.pf-${fnv1a(basename(path)).slice(0, 6)}`);
}

/** mkdir's mode is cut by the umask (UMask=0117 made it 0600, which we could not enter): set it. */
function tryMkdir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Create the private 0700 directory. One already there was left by a start that crashed, or
 * belongs to another process starting on the same SOCKPATH right now: it is removed only if it is
 * this user's, private, and holds nothing but a socket nobody answers on.
 */
async function makePrivateDir(dir: string, path: string, log: Logger): Promise<void> {
  if (tryMkdir(dir)) return;
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) {
    throw new SocketError(
      `${dir}, where the socket for ${path} is bound first, exists and is not a private directory of this user; refusing to use it: remove it`,
    );
  }
  const entries = fs.readdirSync(dir);
  const inside = join(dir, "s");
  if (entries.some((name) => name !== "s") || (entries.length === 1 && !fs.lstatSync(inside).isSocket())) {
    throw new SocketError(
      `${dir} holds files printerfacts did not put there; refusing to touch it: look inside, then remove it`,
    );
  }
  if (entries.length === 1) {
    if ((await probe(inside)) === "live")
      throw new SocketError(`another process is starting on ${path} (its socket in ${dir} answers); stop it first`);
    fs.rmSync(inside, { force: true });
  }
  fs.rmdirSync(dir);
  log.info(`removed ${dir}, left by an earlier start that did not finish`);
  if (!tryMkdir(dir)) throw new SocketError(`another process is starting on ${path} (it created ${dir} just now)`);
}

/**
 * Bind a socket at `path` that is never more open than `mode`: bind it inside a private 0700
 * directory (nobody else can reach it there), set group and mode, then hard-link it into place.
 * link(2), unlike rename(2), fails rather than replace anything that appeared at `path` meanwhile.
 * The runtime only ever knows the private name, so its own cleanup on stop (Bun, Node and Deno
 * unlink the path they bound) can never remove a successor's socket at `path`. It can remove a
 * successor's private name, if that successor is between bind and link at that very moment: the
 * successor then fails to start (chmod or link: ENOENT) rather than serve anywhere unintended.
 */
export async function bindSocket<L extends { abort(): void }>(
  path: string,
  options: { mode: number; gid?: number; replaceStale: boolean },
  bind: (privatePath: string) => Promise<L>,
  log: Logger,
): Promise<{ listener: L; identity: SocketIdentity }> {
  const privateDir = privateDirFor(path);
  const privatePath = join(privateDir, "s");
  let listener: L | undefined;
  let madeDir = false;
  let privateSocket: SocketIdentity | undefined;
  try {
    await makePrivateDir(privateDir, path, log);
    madeDir = true;
    listener = await bind(privatePath);
    privateSocket = fs.lstatSync(privatePath);
    // Group and mode are set explicitly, whatever the umask made of them at bind.
    if (options.gid !== undefined) fs.chownSync(privatePath, -1, options.gid);
    fs.chmodSync(privatePath, options.mode);
    if (options.replaceStale) {
      fs.unlinkSync(path);
      log.info(`removed stale socket ${path} (no process answered a connect to it)`);
    }
    try {
      fs.linkSync(privatePath, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new SocketError(`${path} appeared while starting; another process may be starting on it`);
      }
      throw err;
    }
    const st = fs.lstatSync(path);
    return { listener, identity: { dev: st.dev, ino: st.ino } };
  } catch (err) {
    listener?.abort();
    if (err instanceof SocketError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code ? `${e.syscall ?? ""} ${e.code}`.trim() : e.message;
    const fix =
      e.code === "EACCES" || e.code === "EPERM"
        ? `; this user (uid ${process.geteuid?.()}) may not create files in ${dirname(path)}: give it that directory (under systemd: RuntimeDirectory=) or choose another SOCKPATH`
        : "";
    throw new SocketError(`cannot bind ${path}: ${why}${fix}`);
  } finally {
    // Remove only what this start made: a racing start may own the directory's contents by now.
    if (privateSocket) unlinkIfOurs(privatePath, privateSocket);
    if (madeDir) {
      try {
        fs.rmdirSync(privateDir);
      } catch {
        // Not empty or already gone: another start is using it.
      }
    }
  }
}

/** What was at SOCKPATH when we went to remove it: our socket (removed), nothing, or something else. */
export type Unlinked = "removed" | "gone" | "replaced";

/** Remove SOCKPATH only if it is still the socket we bound, never a successor's. */
export function unlinkIfOurs(path: string, ours: SocketIdentity): Unlinked {
  try {
    const st = fs.lstatSync(path);
    if (st.dev !== ours.dev || st.ino !== ours.ino) return "replaced";
    fs.unlinkSync(path);
    return "removed";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "gone" : "replaced";
  }
}

/**
 * Checks every intervalMs, with an asynchronous lstat (never a blocking call on the event loop),
 * that SOCKPATH is still the socket we bound. When it is gone or replaced (rm, a clean-up script,
 * the directory removed or made again), nobody can reach us through it any more: onLost is told,
 * once, what is there instead. Returns a function that stops the checks.
 */
export function watchSocket(
  path: string,
  ours: SocketIdentity,
  onLost: (what: string) => void,
  intervalMs = 1000,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    // fs.lstat's callback rather than fs.promises, which costs the Bun binary 256 KiB of resident
    // memory once touched (docs/benchmarks.md).
    fs.lstat(path, (err, st) => {
      if (stopped) return;
      let what: string | undefined;
      if (err) {
        // Any failure but these (EACCES...) says nothing about the socket: look again next time.
        if (err.code === "ENOENT" || err.code === "ENOTDIR") what = "nothing";
      } else if (st.dev !== ours.dev || st.ino !== ours.ino) {
        what = st.isSocket() ? "another socket" : describe(st);
      }
      if (what !== undefined) {
        stopped = true;
        onLost(what);
        return;
      }
      timer = setTimeout(check, intervalMs);
      timer.unref?.();
    });
  };
  timer = setTimeout(check, intervalMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

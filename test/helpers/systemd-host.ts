// A throwaway systemd host for tests: Debian's systemd as PID 1 in its own PID, mount, network,
// IPC, UTS and cgroup namespaces, so a unit, install script or NixOS module runs the way an
// operator's host runs it, and nothing it does reaches the machine running the tests.
//
//   import { bootSystemdHost, type SystemdHost } from "./helpers/systemd-host.ts";
//   let host: SystemdHost;
//   beforeAll(async () => { host = await bootSystemdHost(); }, 60_000);  // one host per test file
//   afterAll(() => host?.stop());
//
//   await host.run(["systemctl", "start", "nginx"])   -> { status, stdout, stderr } (never throws)
//   await host.ok(["systemctl", "is-active", "nginx"]) -> stdout; throws with the output if status != 0
//   await host.sh("curl -s --unix-socket /run/x.sock http://x/")  (bash -c, same result as run)
//   host.spawn(["bash", "-c", "while ...; done"])       -> Running (server.ts), e.g. a load loop inside
//   await host.copyIn("dist/printerfacts", "/usr/local/bin/printerfacts", 0o755)
//   await host.writeFile("/etc/systemd/system/x.service", text, 0o644)
//   await host.journal("--unit=printerfacts.service", ["listening"]) -> its messages, once they hold each line
//   await host.stop()                                 -> SIGKILL from outside; idempotent
//   host.bootMs                                       -> how long the boot took
//   bootSystemdHost({ share: { [ROOT]: "/opt/printerfacts-src" } })  -> the project, read-only, in the host
//   host.pathOf(join(ROOT, "deploy/install-debian.sh")) -> "/opt/printerfacts-src/deploy/install-debian.sh"
//
// What the host sees: the machine's / read-only; its own tmpfs on /run, /tmp, /var/tmp and /dev
// (the usual nodes only); overlays on /etc, /var, /usr/local and /opt whose writes land in a temp dir
// (so the test's files in the real /tmp are NOT visible in it: copy them in). Its own loopback (up)
// and no other network; its own cgroup2 tree (a child of the test runner's cgroup). It boots
// `basic.target` (not multi-user.target: the machine's enabled nginx, prometheus, ... stay down until
// a test starts them). Units that would change the shared kernel or machine (sysctl, binfmt, modules,
// udev, fsck, remount, swap) or only take time (getty, logind, networkd, timesyncd, timers) are masked.
// Commands run through `nsenter` into all of its namespaces, as root, cwd /.
//
// Teardown: stop() SIGKILLs systemd (PID 1 there, so the kernel kills everything in the host),
// removes its cgroups and temp dir. killSystemdHosts() (test/setup.ts, when the run ends) does the
// same for any host a failing test left; unshare --kill-child ends the host if unshare is killed.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./eventually.ts";
import { type Running, start } from "./server.ts";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin. */
  stdin?: string | Uint8Array;
  /** Extra environment (PATH is set; nothing of the test runner's environment is passed). */
  env?: Record<string, string>;
  /** Killed after this long (status 124 in the result); default 60 s. */
  timeoutMs?: number;
}

export interface SystemdHost {
  /** systemd's PID as the test runner sees it. */
  pid: number;
  /** Milliseconds from spawning unshare until `systemctl is-system-running` said running/degraded. */
  bootMs: number;
  /** The temp dir holding the overlays' upper dirs and systemd's console output. */
  stateDir: string;
  run(command: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** run(), but throws with status, stdout and stderr unless it exits 0; resolves to stdout. */
  ok(command: readonly string[], opts?: RunOptions): Promise<string>;
  /** run(["bash", "-c", script]). */
  sh(script: string, opts?: RunOptions): Promise<RunResult>;
  /** A long-running command inside the host (a load loop, a client); killed with the host. */
  spawn(command: readonly string[], env?: Record<string, string>): Running;
  /** Copies a file of the machine (any path, also the real /tmp) to `dest` in the host. */
  copyIn(src: string, dest: string, mode?: number): Promise<void>;
  writeFile(dest: string, content: string | Uint8Array, mode?: number): Promise<void>;
  /** Where a machine path is in the host: under a `share` if it is in one, else the same path. */
  pathOf(machinePath: string): string;
  /**
   * The messages (`-o cat`) that `match` selects, a journalctl argument such as `--unit=x.service`
   * or `_SYSTEMD_INVOCATION_ID=…`, once they hold every one of `lines`: journald stores a line a
   * moment after it is written. Throws after 10 s, with what the journal had.
   */
  journal(match: string, lines: string[]): Promise<string>;
  /** `systemctl show` properties of a unit, by name. */
  show(unit: string, ...props: string[]): Promise<Record<string, string>>;
  /** systemd's own console output so far (the boot log). */
  console(): string;
  stop(): Promise<void>;
}

export interface BootOptions {
  /** More units to mask, besides DEFAULT_MASKED. */
  mask?: string[];
  /** The unit systemd boots to; default basic.target. */
  target?: string;
  /** Give up after this long; default 60 s. */
  timeoutMs?: number;
  /**
   * Directories of the machine to show in the host, read-only: { [machinePath]: hostPath }. The
   * host path must be under /opt, /usr/local, /etc or /var (the host's own layers, made before its
   * /tmp and /run), so nothing is created on the machine. E.g. { [ROOT]: "/opt/printerfacts-src" }: the project as the
   * service user can reach it (ROOT itself may be under the machine's /tmp or a 0700 /root).
   */
  share?: Record<string, string>;
}

const INIT = join(import.meta.dir, "systemd-host-init.sh");
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Masked in every host: they change the shared kernel or machine, or only cost boot time. */
export const DEFAULT_MASKED = [
  "systemd-sysctl.service",
  "systemd-binfmt.service",
  "proc-sys-fs-binfmt_misc.automount",
  "proc-sys-fs-binfmt_misc.mount",
  "systemd-modules-load.service",
  "kmod-static-nodes.service",
  "systemd-udevd.service",
  "systemd-udevd-control.socket",
  "systemd-udevd-kernel.socket",
  "systemd-udev-trigger.service",
  "systemd-udev-settle.service",
  "systemd-hwdb-update.service",
  "systemd-remount-fs.service",
  "systemd-fsck-root.service",
  "systemd-random-seed.service",
  "systemd-pstore.service",
  "systemd-firstboot.service",
  "systemd-machine-id-commit.service",
  "systemd-journal-catalog-update.service",
  "ldconfig.service",
  "sys-kernel-config.mount",
  "sys-kernel-debug.mount",
  "sys-kernel-tracing.mount",
  "sys-fs-fuse-connections.mount",
  "dev-hugepages.mount",
  "dev-mqueue.mount",
  "swap.target",
  "getty.target",
  "console-getty.service",
  "systemd-logind.service",
  "systemd-networkd.service",
  "systemd-timesyncd.service",
  "systemd-tmpfiles-clean.timer",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "man-db.timer",
  "e2scrub_all.timer",
  "fstrim.timer",
  "logrotate.timer",
  "dpkg-db-backup.timer",
  "podman.socket",
  "podman-auto-update.timer",
];

interface Live {
  pid: number;
  unshare: Running;
  cgroup?: string;
  stateDir: string;
}
const hosts = new Set<Live>();

/** Whether `pid` is a live process: neither gone nor a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    // /proc/PID/stat: "PID (comm) STATE ...", and comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** SIGKILLs every host still running and removes what it left; test/setup.ts calls it at the end. */
export function killSystemdHosts(): void {
  for (const live of hosts) teardown(live);
}

function teardown(live: Live): void {
  if (!hosts.delete(live)) return;
  if (live.pid > 0) {
    try {
      process.kill(live.pid, "SIGKILL");
    } catch {}
  }
  live.unshare.kill("SIGKILL");
  if (live.cgroup) removeCgroup(live.cgroup);
  rmSync(live.stateDir, { recursive: true, force: true });
}

/** rmdir a cgroup tree bottom-up, retrying briefly while the killed processes are reaped. */
function removeCgroup(dir: string): void {
  const deadline = Date.now() + 5_000;
  const rm = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
    rmdirSync(d);
  };
  for (;;) {
    try {
      if (existsSync(dir)) rm(dir);
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        console.error(`systemd-host: could not remove cgroup ${dir}: ${e}`);
        return;
      }
      Bun.sleepSync(50);
    }
  }
}

/** Where this process's cgroup2 group is on the machine, or undefined (no cgroup2 mounted). */
function ownCgroup2(): string | undefined {
  const line = readFileSync("/proc/self/cgroup", "utf8")
    .split("\n")
    .find((l) => l.startsWith("0::"));
  return line ? cgroup2Dir(line.slice(3)) : undefined;
}

/** The directory of a cgroup2 group named as /proc/PID/cgroup's "0::" line names it, or undefined. */
export function cgroup2Dir(rel: string): string | undefined {
  const mount = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[f.indexOf("-") + 1] === "cgroup2");
  if (!mount) return undefined;
  // mountinfo: field 3 is the mount's root within the hierarchy, field 4 its mount point.
  const root = mount[3] === "/" ? "" : mount[3];
  return join(mount[4], rel.startsWith(root) ? rel.slice(root.length) : rel);
}

async function exec(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = Bun.spawn([...argv], {
    cwd: "/",
    env: { PATH, LANG: "C.UTF-8", SYSTEMD_PAGER: "", SYSTEMD_COLORS: "0", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([Buffer.from(opts.stdin)]),
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 60_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { status: timedOut ? 124 : code, stdout, stderr };
}

/** Boots a host and waits until systemd says the boot is done (running or degraded). */
export async function bootSystemdHost(options: BootOptions = {}): Promise<SystemdHost> {
  const began = performance.now();
  const shares = Object.entries(options.share ?? {});
  for (const [, dest] of shares) {
    if (!/^\/(opt|usr\/local|etc|var)\/./.test(dest) || dest.startsWith("/var/tmp"))
      throw new Error(`systemd host: share target ${dest} is not under /opt, /usr/local, /etc or /var`);
  }
  const stateDir = mkdtempSync(join(tmpdir(), "pf-systemd-host-"));
  chmodSync(stateDir, 0o700);
  const id = stateDir.slice(stateDir.lastIndexOf("-") + 1);
  const parent = ownCgroup2();
  const cgroup = parent ? join(parent, `pf-systemd-host-${id}`) : undefined;
  if (cgroup) mkdirSync(cgroup);
  const masked = [...DEFAULT_MASKED, ...(options.mask ?? [])];
  if (shares.length > 0)
    writeFileSync(join(stateDir, "shares"), shares.map(([src, dest]) => `${src}\t${dest}\n`).join(""));
  // The shell moves itself into the host's cgroup before unshare makes that the namespace's root.
  const enter = cgroup ? `echo $$ > '${cgroup}/cgroup.procs' && ` : "";
  const unshare = start(
    [
      "bash",
      "-c",
      `${enter}exec unshare --fork --kill-child=SIGKILL --pid --mount --net --ipc --uts --cgroup --mount-proc "$@"`,
      "unshare",
      INIT,
      stateDir,
      options.target ?? "basic.target",
      ...masked,
    ],
    {},
    "/",
  );
  const live: Live = { pid: -1, unshare, cgroup, stateDir };
  hosts.add(live);

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const fail = (why: string) => {
    const log = unshare.stdout() + unshare.stderr();
    teardown(live);
    return new Error(`systemd host did not boot: ${why}\n${log.slice(-4000)}`);
  };
  let exited: number | undefined;
  unshare.exited.then((code) => {
    exited = code;
  });
  const booting = (what: string) => ({
    what,
    timeoutMs: Math.max(0, deadline - Date.now()),
    intervalMs: 10,
  });
  // systemd is unshare's only child (PID 1 in there).
  try {
    live.pid = await eventually(() => {
      if (exited !== undefined) throw new Error(`unshare exited with ${exited}`);
      const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, "utf8").trim();
      return children ? Number(children.split(" ")[0]) : 0;
    }, booting("a PID 1"));
  } catch (e) {
    throw fail((e as Error).message);
  }
  const enterArgs = ["nsenter", "-t", String(live.pid), "-m", "-p", "-n", "-i", "-u", "-C", "--"];
  const run = (command: readonly string[], opts?: RunOptions) => exec([...enterArgs, ...command], opts);

  try {
    await eventually(
      async () => {
        if (exited !== undefined) throw new Error(`unshare exited with ${exited}`);
        const state = (await run(["systemctl", "is-system-running"], { timeoutMs: 5_000 })).stdout.trim();
        return state === "running" || state === "degraded";
      },
      { ...booting("systemctl is-system-running to say running or degraded"), intervalMs: 50 },
    );
  } catch (e) {
    throw fail((e as Error).message);
  }
  const bootMs = Math.round(performance.now() - began);

  const ok = async (command: readonly string[], opts?: RunOptions) => {
    const r = await run(command, opts);
    if (r.status !== 0)
      throw new Error(
        `in systemd host: ${command.join(" ")} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
      );
    return r.stdout;
  };
  const writeFile = async (dest: string, content: string | Uint8Array, mode = 0o644) => {
    // Renamed into place, so a running program at `dest` is replaced, not written over.
    const script =
      'mkdir -p "$(dirname "$1")" && cat > "$1.pf-new" && chmod "$2" "$1.pf-new" && mv -f "$1.pf-new" "$1"';
    await ok(["bash", "-c", script, "write", dest, mode.toString(8)], { stdin: content });
  };
  return {
    pid: live.pid,
    bootMs,
    stateDir,
    run,
    ok,
    sh: (script, opts) => run(["bash", "-c", script], opts),
    spawn: (command, env = {}) => start([...enterArgs, ...command], { LANG: "C.UTF-8", ...env }, "/"),
    copyIn: async (src, dest, mode = 0o644) => writeFile(dest, readFileSync(src), mode),
    writeFile,
    pathOf: (machinePath) => {
      for (const [src, dest] of shares) {
        if (machinePath === src || machinePath.startsWith(`${src}/`)) return dest + machinePath.slice(src.length);
      }
      return machinePath;
    },
    journal: async (match, lines) => {
      let text = "";
      await eventually(
        async () => {
          text = await ok(["journalctl", "--no-pager", "-o", "cat", match]);
          return lines.every((line) => text.includes(line));
        },
        { what: () => `${JSON.stringify(lines)} in the journal (${match}); it has:\n${text}`, timeoutMs: 10_000 },
      );
      return text;
    },
    show: async (unit, ...props) => {
      const out = await ok(["systemctl", "show", unit, ...props.map((p) => `-p${p}`)]);
      return Object.fromEntries(
        out
          .trim()
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
    },
    console: () => unshare.stdout() + unshare.stderr(),
    stop: async () => {
      teardown(live);
      await unshare.exited;
      // systemd itself is reaped by whoever inherits it (the machine's init, which may be slow
      // to): dead is enough.
      await eventually(() => !isRunning(live.pid), { what: `the host's PID 1 (${live.pid}) to die`, timeoutMs: 2000 });
    },
  };
}

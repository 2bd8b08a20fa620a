// Socket safety, on the compiled binary over real sockets: what may be replaced at SOCKPATH, who
// may connect, and what shutdown leaves behind.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import {
  BINARY,
  BUN,
  curl,
  SERVICE,
  serviceDir,
  startListening,
  startService,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const SLOW = [BUN, join(import.meta.dir, "fixtures/slow-server.ts")];
const isRoot = process.getuid?.() === 0;
/** A user that is neither the service user nor in its group (Debian's daemon:daemon). */
const daemon = { uid: 1, gid: 1, group: "daemon" };

const dir = tempDir();
afterAll(() => dir.cleanup());
const sockPath = () => dir.socketPath("s");

/** Everything that identifies a path's current state, without following links. */
function snapshot(path: string) {
  const st = lstatSync(path);
  return {
    ino: st.ino,
    mode: st.mode,
    mtimeMs: st.mtimeMs,
    size: st.size,
    content: st.isFile()
      ? readFileSync(path, "base64")
      : st.isSymbolicLink()
        ? readlinkSync(path)
        : st.isDirectory()
          ? readdirSync(path).join(",")
          : "",
  };
}

/** Connect and see whether anyone answers: "ok", or the error code. */
function connectResult(path: string): Promise<string> {
  return new Promise((resolve) => {
    const conn = createConnection({ path });
    conn.once("connect", () => {
      conn.destroy();
      resolve("ok");
    });
    conn.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("what is already at SOCKPATH", () => {
  test("a stale socket (its server was killed) is replaced, and that is logged", async () => {
    const sock = sockPath();
    const crashed = await startListening([BINARY], { SOCKPATH: sock });
    crashed.kill("SIGKILL");
    await crashed.exited;
    expect(lstatSync(sock).isSocket()).toBe(true);
    expect(await connectResult(sock)).toBe("ECONNREFUSED");
    const staleIno = lstatSync(sock).ino;

    const proc = await startListening([BINARY], { SOCKPATH: sock });
    expect(proc.stderr()).toContain(`removed stale socket ${sock}`);
    expect(lstatSync(sock).ino).not.toBe(staleIno);
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("a live socket is refused, untouched, while its owner keeps serving", async () => {
    const sock = sockPath();
    const owner = await startListening([BINARY], { SOCKPATH: sock });
    const before = snapshot(sock);

    const second = startService([BINARY], { SOCKPATH: sock });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`another process is serving on ${sock}`);
    expect(snapshot(sock)).toEqual(before);
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);

    owner.kill();
    expect(await owner.exited).toBe(0);
  });

  const live = sockPath();
  const cases: [string, (path: string) => void, string][] = [
    ["a regular file", (p) => writeFileSync(p, "precious data\n"), "a regular file"],
    [
      "a directory",
      (p) => {
        mkdirSync(p);
        writeFileSync(join(p, "inside"), "x");
      },
      "a directory",
    ],
    [
      "a symlink to a file",
      (p) => {
        writeFileSync(`${p}.target`, "target data\n");
        symlinkSync(`${p}.target`, p);
      },
      "a symbolic link",
    ],
    ["a symlink to a live socket", (p) => symlinkSync(live, p), "a symbolic link"],
    ["a FIFO", (p) => Bun.spawnSync(["mkfifo", p]), "a FIFO"],
  ];

  test.each(cases)("%s is refused and left exactly as it was", async (_name, make, described) => {
    const owner = await startListening([BINARY], { SOCKPATH: live });
    try {
      const path = sockPath();
      make(path);
      const before = snapshot(path);
      const proc = startService([BINARY], { SOCKPATH: path });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toContain(`${path} exists and is ${described}, not a socket; refusing to touch it`);
      expect(snapshot(path)).toEqual(before);
      // Nothing was left behind in the directory either (no private bind directory).
      expect(readdirSync(dir.path).filter((f) => f.startsWith(".pf-"))).toEqual([]);
      expect((await curl("http://x/fact", { socket: live })).status).toBe(200);
    } finally {
      owner.kill();
      await owner.exited;
    }
  });

  test("a missing directory is a clear error; nothing is created", async () => {
    const missing = join(dir.path, "no-such-dir");
    const proc = startService([BINARY], { SOCKPATH: join(missing, "p.sock") });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`the directory ${missing} for SOCKPATH does not exist`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe("permissions", () => {
  test.each(["0600", "0660", "0666", "0640"])("SOCKMODE=%s is the socket's exact mode", async (mode) => {
    const sock = sockPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock, SOCKMODE: mode });
    expect(statSync(sock).mode & 0o7777).toBe(Number.parseInt(mode, 8));
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("the default mode is 0660", async () => {
    const sock = sockPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    expect(statSync(sock).mode & 0o7777).toBe(0o660);
    proc.kill();
    await proc.exited;
  });

  test("never more open than asked: bound in a private 0700 directory, group and mode set there, then linked into place", async () => {
    const sock = sockPath();
    const trace = `${sock}.strace.txt`;
    const proc = await startListening(
      [BINARY],
      { SOCKPATH: sock, SOCKGROUP: "nogroup" },
      {
        wrapper: [
          "strace",
          "-f",
          "-qq",
          "-o",
          trace,
          "-e",
          "trace=mkdir,mkdirat,bind,chown,fchownat,chmod,fchmodat,link,linkat,rename,renameat,renameat2",
        ],
      },
    );
    // Signal the traced program itself: strace would detach from it rather than pass SIGTERM on.
    const traced = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim().split(" ")[0]);
    process.kill(traced, "SIGTERM");
    expect(await proc.exited).toBe(0);

    const calls = readFileSync(trace, "utf8")
      .split("\n")
      .map((line) => line.replace(/^\d+\s+/, ""))
      .filter(
        (line) => /^(mkdir|bind|chown|fchownat|chmod|fchmodat|link|linkat|rename)/.test(line) && !line.includes("= -1"),
      );
    const index = (pattern: RegExp) => calls.findIndex((c) => pattern.test(c));
    const mkdir = index(/^mkdir(at)?\(.*\.pf-\w+", 0700\)/);
    const bind = index(/^bind\(.*\.pf-\w+\/s"/);
    const chown = index(/^(f?chown(at)?)\(.*\.pf-\w+\/s", -1, 65534/);
    const chmod = index(/^(f?chmod(at)?)\(.*\.pf-\w+\/s", 0660/);
    const link = index(new RegExp(`^link(at)?\\(.*\\.pf-\\w+/s", .*"${sock}"`));
    expect({ mkdir, bind, chown, chmod, link }).toEqual({
      mkdir: expect.any(Number),
      bind: expect.any(Number),
      chown: expect.any(Number),
      chmod: expect.any(Number),
      link: expect.any(Number),
    });
    for (const i of [mkdir, bind, chown, chmod, link]) expect(i).toBeGreaterThanOrEqual(0);
    expect(mkdir).toBeLessThan(bind);
    expect(bind).toBeLessThan(chown);
    expect(chown).toBeLessThan(chmod);
    expect(chmod).toBeLessThan(link);
    // The public path is never bound directly, nor renamed over.
    expect(calls.filter((c) => c.startsWith("bind(") && c.includes(`"${sock}"`))).toEqual([]);
    expect(calls.filter((c) => c.startsWith("rename"))).toEqual([]);
  });

  test.skipIf(!isRoot)(
    "another user is refused by the service user's 0660 socket, and admitted with SOCKGROUP set to a group both are in",
    async () => {
      const closed = sockPath();
      const a = await startListening([BINARY], { SOCKPATH: closed });
      const refused = await curl("http://x/fact", { socket: closed, as: daemon });
      expect(refused.exitCode).toBe(7);
      expect(refused.stderr).toContain("Couldn't connect");
      expect((await curl("http://x/fact", { socket: closed, as: SERVICE })).status).toBe(200);

      // As a unit's SupplementaryGroups=daemon gives it.
      const shared = sockPath();
      const b = await startListening([BINARY], { SOCKPATH: shared, SOCKGROUP: daemon.group }, { groups: [daemon.gid] });
      expect(statSync(shared).gid).toBe(daemon.gid);
      const admitted = await curl("http://x/fact", { socket: shared, as: daemon });
      expect(admitted.exitCode).toBe(0);
      expect(admitted.status).toBe(200);

      a.kill();
      b.kill();
      expect([await a.exited, await b.exited]).toEqual([0, 0]);
    },
  );

  test.skipIf(!isRoot)("a group this process is not in is a config error, and nothing is left behind", async () => {
    const own = serviceDir(join(dir.path, "own"));
    const proc = startService([BINARY], { SOCKPATH: join(own, "p.sock"), SOCKGROUP: "root" });
    expect(await proc.exited).toBe(78);
    expect(proc.stderr()).toBe(
      'printerfacts error: config: SOCKGROUP="root" cannot be used: this process is not in group 0, so it may not give the socket to it: add the user to that group (under systemd: SupplementaryGroups=) or choose another SOCKGROUP\n',
    );
    expect(readdirSync(own)).toEqual([]);
  });

  test("a socket in a world-writable directory gets a warning pointing to /run/printerfacts", async () => {
    const open = join(dir.path, "open");
    mkdirSync(open);
    chmodSync(open, 0o1777);
    const proc = await startListening([BINARY], { SOCKPATH: join(open, "p.sock") });
    expect(proc.stderr()).toContain(`warn: SOCKPATH is in ${open}, which every user may write to`);
    expect(proc.stderr()).toContain("use /run/printerfacts/");
    proc.kill();
    await proc.exited;
  });
});

describe("shutdown", () => {
  test("a slow request in flight at SIGTERM completes; new connections are refused; a successor's socket survives", async () => {
    const sock = sockPath();
    const old = await startListening(SLOW, { SOCKPATH: sock });
    const inFlight = curl("http://x/slow?ms=1500", { socket: sock });
    await waitForLog(old, "slow request started"); // the request is in the server

    old.kill("SIGTERM");
    await waitForLog(old, `removed socket ${sock}`);
    expect(await connectResult(sock)).toBe("ENOENT");

    // A new instance takes the path while the old one is still draining.
    const successor = await startListening([BINARY], { SOCKPATH: sock });
    const successorIno = lstatSync(sock).ino;

    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(slow.body).toBe("slow done\n");
    expect(await old.exited).toBe(0);
    expect(old.stderr()).toContain("all requests finished");

    expect(lstatSync(sock).ino).toBe(successorIno);
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);
    successor.kill();
    expect(await successor.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  test("a socket replaced by someone else is left in place on exit", async () => {
    const sock = sockPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    // Someone moved ours away and put their own file there.
    const { renameSync } = await import("node:fs");
    renameSync(sock, `${sock}.old`);
    writeFileSync(sock, "not yours\n");
    proc.kill();
    expect(await proc.exited).toBe(0);
    expect(readFileSync(sock, "utf8")).toBe("not yours\n");
    expect(proc.stderr()).toContain(
      `${sock} is no longer the socket we bound (something else is there now); left it in place`,
    );
  });

  test("idle keep-alive connections do not hold up the exit", async () => {
    const sock = sockPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock, SHUTDOWN_TIMEOUT: "30" });
    const conn = createConnection({ path: sock });
    await new Promise<void>((resolve) => {
      conn.once("data", () => resolve());
      conn.write("GET /fact HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    const closed = new Promise<void>((resolve) => conn.once("close", () => resolve()));
    const t0 = Date.now();
    proc.kill();
    expect(await proc.exited).toBe(0);
    await closed;
    // Far below SHUTDOWN_TIMEOUT (30 s): the idle connection was closed, not waited out.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(proc.stderr()).toContain("all requests finished");
  });

  test("SHUTDOWN_TIMEOUT cuts a request that runs too long, then exits 0", async () => {
    const sock = sockPath();
    const proc = await startListening(SLOW, { SOCKPATH: sock, SHUTDOWN_TIMEOUT: "1" });
    const inFlight = curl("http://x/slow?ms=20000", { socket: sock });
    await waitForLog(proc, "slow request started"); // the request is in the server
    proc.kill();
    expect(await proc.exited).toBe(0);
    expect(proc.stderr()).toContain("drain timed out after 1s");
    expect((await inFlight).exitCode).not.toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  test("a second signal during the drain exits at once", async () => {
    const sock = sockPath();
    const proc = await startListening(SLOW, { SOCKPATH: sock, SHUTDOWN_TIMEOUT: "60" });
    const inFlight = curl("http://x/slow?ms=30000", { socket: sock });
    await waitForLog(proc, "slow request started"); // the request is in the server
    proc.kill("SIGTERM");
    await waitForLog(proc, "shutting down");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expect(proc.stderr()).toContain("SIGINT again: exiting now");
    expect(existsSync(sock)).toBe(false);
    await inFlight;
  });
});

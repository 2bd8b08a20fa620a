// `printerfacts check [USER]` predicts the article's 502 before nginx shows it: against real users
// (www-data, daemon, bin, root) and a real nginx whose workers run as www-data, with the service as
// the tests' service user (nobody), it names the first obstacle and its fix where nginx answers 502
// "(13: Permission denied)", and says yes where nginx answers 200. Then it asks /healthz itself, so
// its exit code doubles as a health probe.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, type Nginx, selfSignedCert, startNginx, WWW_DATA } from "./helpers/nginx.ts";
import { CHECK_EXIT } from "../src/cli/check.ts";
import {
  BINARY,
  curl,
  LISTENING,
  ROOT,
  type Running,
  SERVICE,
  start,
  startListening,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
const cert = selfSignedCert(dir.path);
const running: Array<Running | Nginx> = [];
afterAll(async () => {
  for (const r of running) "stop" in r ? await r.stop() : r.kill("SIGKILL");
  dir.cleanup();
});

const DAEMON_GID = 1;

/** The service, as the tests' service user (nobody:nogroup), in `groups` as SupplementaryGroups= would put it. */
async function backend(sock: string, env: Record<string, string> = {}, groups: number[] = []) {
  const proc = await startListening([BINARY], { SOCKPATH: sock, ...env }, { groups });
  running.push(proc);
  return proc;
}

/** printerfacts check, with the service's SOCKPATH; `wrapper` runs it as another user. */
async function check(sock: string, args: string[] = [], wrapper: string[] = []) {
  const proc = start([...wrapper, BINARY, "check", ...args], { SOCKPATH: sock });
  const code = await proc.exited;
  return { code, out: proc.stdout(), err: proc.stderr() };
}

/** The shipped site in a real nginx, workers as www-data (master root, as on Debian). */
async function nginxTo(sock: string) {
  const prefix = join(dir.path, `nginx-${Math.random().toString(36).slice(2)}`);
  mkdirSync(prefix);
  const site = { sockets: [sock], httpPort: await freePort(), httpsPort: await freePort(), cert };
  const n = await startNginx(prefix, site, { user: WWW_DATA.directive });
  running.push(n);
  const get = () => curl(`https://127.0.0.1:${site.httpsPort}/fact`, { args: ["-k"] });
  return { ...n, get };
}

describe("the socket's own mode and group", () => {
  test("a 0660 socket of group daemon: check says www-data may not connect and how to fix it (exit 2); nginx: 502 (13)", async () => {
    const sock = dir.socketPath("sock-");
    await backend(sock, { SOCKGROUP: "daemon" }, [DAEMON_GID]);
    const r = await check(sock, ["www-data"]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `no: www-data may not connect to ${sock} (0660 nobody:daemon; connecting needs write, and www-data gets the other bits)`,
    );
    // www-data is /etc/nginx/nginx.conf's user: nginx is what to restart.
    // (adduser is run for real, with the restart, on a throwaway host: test/systemd-deploy.test.ts.)
    expect(r.out).toContain(
      "fix: adduser www-data daemon\n     then systemctl restart nginx (its workers take their groups when nginx starts)\n",
    );
    // Any other user: whatever runs as it.
    expect((await check(sock, ["bin"])).out).toContain(
      "fix: adduser bin daemon\n     then restart what runs as bin (a process takes its groups when it starts; for nginx: systemctl restart nginx)\n",
    );
    // The service itself is fine: the probe (as root) got its answer.
    expect(r.out).toContain("GET /healthz: 200 ok");

    const n = await nginxTo(sock);
    expect((await n.get()).status).toBe(502);
    expect(n.errorLog()).toContain(`connect() to unix:${sock} failed (13: Permission denied)`);
  });

  test("a 0600 socket of a group www-data is in: the fix is SOCKMODE=0660, not a group; applied, check passes and nginx gets 200", async () => {
    const sock = dir.socketPath("sock-");
    const first = await backend(sock, { SOCKGROUP: WWW_DATA.user, SOCKMODE: "0600" }, [WWW_DATA.gid]);
    const r = await check(sock, ["www-data"]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `no: www-data may not connect to ${sock} (0600 nobody:www-data; connecting needs write, and www-data gets the group www-data bits)\n` +
        "fix: SOCKMODE=0660 in the service's environment (its group www-data may then connect), then restart the service\n",
    );
    const n = await nginxTo(sock);
    expect((await n.get()).status).toBe(502);
    expect(n.errorLog()).toContain(`connect() to unix:${sock} failed (13: Permission denied)`);

    // The fix as printed: the service restarted with that SOCKMODE.
    const setting = r.out.match(/^fix: (SOCKMODE)=(\d+) /m);
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    await backend(sock, { SOCKGROUP: WWW_DATA.user, [setting?.[1] ?? "-"]: setting?.[2] ?? "-" }, [WWW_DATA.gid]);
    const fixed = await check(sock, ["www-data"]);
    expect(fixed.out).toContain(`yes: www-data can connect to ${sock}`);
    expect(fixed.code).toBe(0);
    expect((await n.get()).status).toBe(200);
  });

  test("the socket given to www-data's group: check says yes (exit 0), and nginx gets 200", async () => {
    const sock = dir.socketPath("sock-");
    await backend(sock, { SOCKGROUP: WWW_DATA.user }, [WWW_DATA.gid]);
    const r = await check(sock, ["www-data"]);
    expect(r.out).toContain(`yes: www-data can connect to ${sock}`);
    expect(r.code).toBe(0);
    const n = await nginxTo(sock);
    expect((await n.get()).status).toBe(200);
    expect(n.errorLog()).not.toContain("Permission denied");
  });

  test("a service run as root (the article's case): never the advice to join root's group", async () => {
    const sock = dir.socketPath("sock-");
    // As root on purpose: the case check must answer without advising `adduser www-data root`.
    const proc = start([BINARY], { SOCKPATH: sock });
    running.push(proc);
    await waitForLog(proc, LISTENING);
    const r = await check(sock);
    expect(r.out).toMatch(/^can www-data \(nginx's workers, from "user" in \/etc\/nginx\/nginx\.conf; uid 33,/);
    expect(r.out).toContain(`no: www-data may not connect to ${sock} (0660 root:root;`);
    expect(r.out).toContain(
      "fix: give the socket a group of its own that www-data joins: run the service as its own user and group (deploy/systemd/printerfacts.service, SOCKMODE=0660), then adduser www-data printerfacts\n     then systemctl restart nginx (its workers take their groups when nginx starts)\n",
    );
    expect(r.out).not.toContain("adduser www-data root");
    expect(r.code).toBe(2);
  });
});

describe("every directory on the path", () => {
  test("a 0750 directory of group daemon: check names it and the group to join; nginx: 502 (13); a member passes", async () => {
    const sub = join(dir.path, "run-daemon");
    mkdirSync(sub);
    chownSync(sub, SERVICE.uid, DAEMON_GID);
    chmodSync(sub, 0o750);
    const sock = join(sub, "printerfacts.sock");
    await backend(sock, { SOCKMODE: "0666" });
    const r = await check(sock, ["www-data"]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`no: www-data may not search ${sub} (0750 nobody:daemon; www-data gets the other bits)`);
    expect(r.out).toContain("fix: adduser www-data daemon\n     then systemctl restart nginx ");
    const n = await nginxTo(sock);
    expect((await n.get()).status).toBe(502);
    expect(n.errorLog()).toContain(`connect() to unix:${sock} failed (13: Permission denied)`);

    // daemon is in the directory's group; the socket is 0666, so it may connect.
    const member = await check(sock, ["daemon"]);
    expect(member.out).toContain("search: yes (as group daemon)");
    expect(member.code).toBe(0);
  });

  test("a 0750 directory of root's group: the fix is another place for the socket, then restarts; nginx: 502 (13)", async () => {
    const sub = join(dir.path, "run-root");
    mkdirSync(sub);
    chownSync(sub, SERVICE.uid, 0);
    chmodSync(sub, 0o750);
    const sock = join(sub, "printerfacts.sock");
    await backend(sock, { SOCKMODE: "0666" });
    const r = await check(sock, ["www-data"]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`no: www-data may not search ${sub} (0750 nobody:root; www-data gets the other bits)`);
    // Joining root's group is never the advice; moving the socket needs the service and nginx restarted.
    expect(r.out).toContain(
      "fix: put the socket where www-data can reach it, such as /run/printerfacts (the unit's RuntimeDirectory=, mode 0750, group printerfacts; SOCKPATH=/run/printerfacts/printerfacts.sock), then adduser www-data printerfacts\n     then restart the service, and systemctl restart nginx (its workers take their groups when nginx starts)\n",
    );
    expect(r.out).not.toContain("adduser www-data root");
    const n = await nginxTo(sock);
    expect((await n.get()).status).toBe(502);
    expect(n.errorLog()).toContain(`connect() to unix:${sock} failed (13: Permission denied)`);
  });

  test("without USER it checks the user nginx's workers run as, from /etc/nginx/nginx.conf's user directive", async () => {
    const sock = dir.socketPath("sock-");
    await backend(sock, { SOCKGROUP: WWW_DATA.user }, [WWW_DATA.gid]);
    const r = await check(sock);
    expect(r.out).toMatch(/^can www-data \(nginx's workers, from "user" in \/etc\/nginx\/nginx\.conf; uid 33,/);
    expect(r.out).toContain(`yes: www-data can connect to ${sock}`);
    expect(r.code).toBe(0);
  });
});

describe("as a health probe (no HTTP client needed)", () => {
  test("run by an unprivileged user that may connect, about itself: exit 0 once /healthz answers 200", async () => {
    const sock = dir.socketPath("sock-");
    await backend(sock, { SOCKGROUP: WWW_DATA.user }, [WWW_DATA.gid]);
    const asWorkers = ["setpriv", `--reuid=${WWW_DATA.uid}`, `--regid=${WWW_DATA.gid}`, "--init-groups"];
    const r = await check(sock, ["www-data"], asWorkers);
    expect(r.out).toContain(`yes: www-data can connect to ${sock}`);
    expect(r.out).toContain("GET /healthz: 200 ok");
    expect(r.code).toBe(0);
  });

  test("a stale socket (the service was killed): exit 1, connection refused", async () => {
    const sock = dir.socketPath("sock-");
    const proc = await backend(sock);
    proc.kill("SIGKILL");
    await proc.exited;
    const r = await check(sock, ["root"]);
    expect(r.out).toContain("GET /healthz: could not connect: ECONNREFUSED (a stale socket: nobody is serving on it)");
    expect(r.code).toBe(1);
  });

  test("no socket at all: exit 1, and it says the service is not running", async () => {
    const sock = dir.socketPath("none-");
    const r = await check(sock, ["root"]);
    expect(r.out).toContain(`no: there is no socket at ${sock}; is the service running?`);
    expect(r.code).toBe(1);
  });

  test("on TCP: no permissions to walk, just /healthz", async () => {
    const env = { PORT: String(await freePort()), HOST: "127.0.0.1" };
    running.push(await startListening([BINARY], env));
    const probe = start([BINARY, "check"], env);
    expect(await probe.exited).toBe(0);
    expect(probe.stdout()).toContain("there are no socket permissions to check");
    expect(probe.stdout()).toContain("GET /healthz: 200 ok");
  });
});

describe("what it cannot answer has its own exit code", () => {
  test("an unknown USER: 67; bad configuration: 78 with the service's own line; an extra argument: 64", async () => {
    const sock = dir.socketPath("sock-");
    expect((await check(sock, ["pf-no-such-user"])).code).toBe(67);
    const bad = start([BINARY, "check"], { SOCKPATH: sock, PORT: "80" });
    expect(await bad.exited).toBe(78);
    expect(bad.stdout()).toStartWith("config: SOCKPATH and PORT are both set");
    expect((await check(sock, ["a", "b"])).code).toBe(64);
  });

  test("a checker that may not look into a directory (0700, not its own): 77, run it as root", async () => {
    const sub = join(dir.path, "private");
    mkdirSync(sub, { mode: 0o700 });
    const r = await check(
      join(sub, "s.sock"),
      ["root"],
      ["setpriv", `--reuid=${SERVICE.uid}`, `--regid=${SERVICE.gid}`, "--clear-groups"],
    );
    expect(r.out).toContain(`cannot tell: this check may not look at ${join(sub, "s.sock")} (EACCES); run it as root`);
    expect(r.code).toBe(77);
  });
});

test("docs/check.md documents exactly the exit codes check has", () => {
  const doc = readFileSync(join(ROOT, "docs/check.md"), "utf8");
  const documented = [...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  expect(documented).toEqual(Object.values(CHECK_EXIT));
});

// deploy/systemd/socket-activation/, run for real: systemd as PID 1 in a throwaway host holds
// /run/printerfacts/printerfacts.sock, the first request starts the service (Node as shipped, and
// Deno through a drop-in), and a restart under load loses no request: the socket stays with systemd.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { DENO, NODE_BUNDLE, ROOT } from "./helpers/server.ts";
import { bootSystemdHost, type SystemdHost } from "./helpers/systemd-host.ts";

const UNITS = join(ROOT, "deploy/systemd/socket-activation");
const SOCK = "/run/printerfacts/printerfacts.sock";
let host: SystemdHost;

beforeAll(async () => {
  // The project is shown read-only in the host (ROOT may be in the machine's /tmp or /root).
  host = await bootSystemdHost({ share: { [ROOT]: "/opt/printerfacts-src" } });
  console.log(`systemd host booted in ${host.bootMs} ms`);
  await host.copyIn(join(ROOT, "deploy/systemd/printerfacts.sysusers"), "/etc/sysusers.d/printerfacts.conf");
  await host.ok(["systemd-sysusers"]);
  await host.copyIn(join(UNITS, "printerfacts.socket"), "/etc/systemd/system/printerfacts.socket");
  await host.copyIn(join(UNITS, "printerfacts.service"), "/etc/systemd/system/printerfacts.service");
  // Where the Node unit's ExecStart looks for the bundle (npm run build:node).
  await host.copyIn(NODE_BUNDLE, "/opt/printerfacts/printerfacts.mjs");
}, 60_000);
afterAll(() => host?.stop());

const show = (unit: string, ...props: string[]) => host.show(unit, ...props);

const RUNTIMES: [string, () => string][] = [
  ["Node (the unit as shipped)", () => ""],
  // Deno from this tree through scripts/deno-run, which grants it what LISTEN_FDS needs (nothing).
  [
    "Deno (scripts/deno-run, by a drop-in)",
    () =>
      `[Service]\nExecStart=\nExecStart=${host.pathOf(join(ROOT, "scripts/deno-run"))}\nEnvironment=DENO=${host.pathOf(DENO)} DENO_DIR=/var/cache/printerfacts\nCacheDirectory=printerfacts\n`,
  ],
];

describe.each(RUNTIMES)("%s", (runtime, dropIn) => {
  beforeAll(async () => {
    await host.run(["rm", "-rf", "/etc/systemd/system/printerfacts.service.d"]);
    if (dropIn()) await host.writeFile("/etc/systemd/system/printerfacts.service.d/runtime.conf", dropIn());
    await host.ok(["systemctl", "daemon-reload"]);
    await host.ok(["systemctl", "enable", "--now", "printerfacts.socket"]);
  });
  afterAll(async () => {
    await host.run(["systemctl", "disable", "--now", "printerfacts.socket", "printerfacts.service"]);
  });

  test("systemd holds the socket (0660 root:printerfacts); the first request starts the service and gets 200", async () => {
    expect((await show("printerfacts.service", "ActiveState")).ActiveState).toBe("inactive");
    expect(await host.ok(["stat", "-c", "%F %a %U:%G", SOCK])).toBe("socket 660 root:printerfacts\n");
    const first = await host.run([
      "curl",
      "-sS",
      "--max-time",
      "20",
      "-w",
      "\n%{http_code}",
      "--unix-socket",
      SOCK,
      "http://x/fact",
    ]);
    expect(first.stdout.split("\n").at(-1)).toBe("200");
    const s = await show("printerfacts.service", "ActiveState", "MainPID");
    expect(s.ActiveState).toBe("active");
    expect(await host.ok(["ps", "-o", "user:20=", "-p", s.MainPID])).toBe("printerfacts\n");
    await host.journal("--unit=printerfacts.service", [
      "printerfacts info: listening on the socket systemd passed (fd 3",
    ]);
  }, 30_000);

  test("systemctl restart printerfacts.service under load loses no request", async () => {
    const before = (await show("printerfacts.service", "MainPID")).MainPID;
    await host.run(["rm", "-f", "/tmp/stop-load"]);
    // Two clients; each curl sends 10 requests, one connection each (as nginx does by default).
    const load = host.spawn([
      "bash",
      "-c",
      `urls=(); for i in $(seq 10); do urls+=(-o /dev/null http://x/fact); done
       client() { while [ ! -e /tmp/stop-load ]; do
         curl -s -w '%{http_code}\\n' -H 'Connection: close' --max-time 20 --unix-socket ${SOCK} "\${urls[@]}"; done; }
       client & client & wait`,
    ]);
    const counted = () => load.stdout().split("\n").filter(Boolean);
    const answered = (n: number) =>
      eventually(() => counted().length >= n, {
        what: () => `${n} answers to the load; got ${counted().length}, stderr: ${load.stderr()}`,
        timeoutMs: 20_000,
      });
    await answered(20);
    const sent = counted().length;
    await host.ok(["systemctl", "restart", "printerfacts.service"]);
    const at = counted().length;
    // Keep the load on until the new process has answered some of it.
    await answered(at + 40);
    await host.ok(["touch", "/tmp/stop-load"]);
    expect(await load.exited).toBe(0);
    const statuses = counted();
    const failed = statuses.filter((s) => s !== "200");
    console.log(
      `${runtime}: restart under load, ${statuses.length} requests (${sent} before the restart, ${statuses.length - at} after it returned), ${failed.length} failed`,
    );
    expect(failed).toEqual([]);
    expect((await show("printerfacts.service", "MainPID")).MainPID).not.toBe(before);
    expect(await host.ok(["stat", "-c", "%F", SOCK])).toBe("socket\n");
    // While the service is stopped, the socket still accepts: a connection waits in its backlog,
    // starts the service again, and is answered.
    await host.ok(["systemctl", "stop", "printerfacts.service"]);
    const waited = await host.run([
      "curl",
      "-sS",
      "--max-time",
      "20",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--unix-socket",
      SOCK,
      "http://x/fact",
    ]);
    expect(waited.stdout).toBe("200");
    expect((await show("printerfacts.service", "ActiveState")).ActiveState).toBe("active");
  }, 60_000);

  test("systemd-analyze security: exposure at most 2.0", async () => {
    const out = await host.ok(["systemd-analyze", "security", "--no-pager", "printerfacts.service"]);
    const level = Number(out.match(/Overall exposure level for \S+: ([\d.]+)/)?.[1]);
    console.log(`${runtime}: exposure ${level}`);
    expect(level).toBeLessThanOrEqual(2.0);
  });
});

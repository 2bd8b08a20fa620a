// deploy/install-debian.sh and the shipped units, run for real: systemd as PID 1 in a throwaway
// host (test/helpers/systemd-host.ts), with Debian's nginx under systemd, the service as its own
// unprivileged user. One host for the whole file; the tests run in order and build on each other.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { shows } from "./helpers/doc-steps.ts";
import { eventually } from "./helpers/eventually.ts";
import { BINARY, BUN, ROOT } from "./helpers/server.ts";
import { bootSystemdHost, type SystemdHost } from "./helpers/systemd-host.ts";

const DOMAIN = "facts.example.org";
let SCRIPT: string; // in the host
const CERT = `/etc/letsencrypt/live/${DOMAIN}`;
let host: SystemdHost;

beforeAll(async () => {
  // The project is shown read-only in the host (ROOT may be in the machine's /tmp or /root).
  host = await bootSystemdHost({ share: { [ROOT]: "/opt/printerfacts-src" } });
  SCRIPT = host.pathOf(join(ROOT, "deploy/install-debian.sh"));
  console.log(`systemd host booted in ${host.bootMs} ms`);
}, 60_000);
afterAll(() => host?.stop());

const show = (unit: string, ...props: string[]) => host.show(unit, ...props);

/** HTTPS through nginx on the host's loopback, as a client resolving DOMAIN would reach it. */
async function https(path: string): Promise<{ status: number; body: string }> {
  const r = await host.run([
    "curl",
    "-sS",
    "--max-time",
    "10",
    "--resolve",
    `${DOMAIN}:443:127.0.0.1`,
    "--cacert",
    `${CERT}/fullchain.pem`,
    "-w",
    "\n%{http_code}",
    `https://${DOMAIN}${path}`,
  ]);
  const i = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

/** Every file the host has written to /etc, /var and /usr/local (its overlays' upper dirs), but the journal's. */
function changedFiles(): string[] {
  const upper = join(host.stateDir, "upper");
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [relative(upper, join(d, e.name))],
    );
  return walk(upper).filter((p) => !p.startsWith("var/log/journal/"));
}

/** A throwaway certificate where certbot would put the real one. */
async function makeCert() {
  await host.ok(["mkdir", "-p", CERT]);
  await host.ok([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${DOMAIN}`,
    "-addext",
    `subjectAltName=DNS:${DOMAIN}`,
    "-keyout",
    `${CERT}/privkey.pem`,
    "-out",
    `${CERT}/fullchain.pem`,
  ]);
}

/** The install script as root in the host, in a mount namespace of its own where `hide` can hide something. */
function install(env: Record<string, string> = {}, hide = "") {
  const command = `${hide}exec bash ${SCRIPT} ${host.pathOf(BINARY)} ${DOMAIN}`;
  return host.run(["unshare", "--mount", "bash", "-c", command], { env });
}

describe("deploy/install-debian.sh", () => {
  test("preflight: without systemd as PID 1, nginx or a certificate it stops with one line and changes nothing", async () => {
    const before = changedFiles();
    const cases: [string, string, string][] = [
      // sd_booted() looks for /run/systemd/system; a tmpfs over /run/systemd hides it.
      [
        "mount -t tmpfs tmpfs /run/systemd && ",
        "systemd is not running as PID 1 here; these units need it",
        "no systemd",
      ],
      // As if nginx were not installed: its binary's directory is empty.
      ["mount -t tmpfs tmpfs /usr/sbin && ", "nginx is not installed: apt-get install nginx", "no nginx"],
      [
        "",
        `no certificate for ${DOMAIN} in ${CERT}/ (fullchain.pem, privkey.pem): get one first, e.g. certbot certonly --nginx -d ${DOMAIN}`,
        "no cert",
      ],
    ];
    for (const [hide, line, what] of cases) {
      const r = await install({}, hide);
      expect([what, r.status, r.stderr, r.stdout]).toEqual([what, 69, `install-debian.sh: ${line}\n`, ""]);
    }
    const bad = await install({ INSTANCES: "0" });
    expect([bad.status, bad.stderr]).toEqual([
      64,
      "install-debian.sh: INSTANCES must be a number from 1 to 99, got: 0\n",
    ]);
    const domain = await host.run(["bash", SCRIPT, host.pathOf(BINARY), "x/y;z"]);
    expect([domain.status, domain.stderr]).toEqual([
      64,
      "install-debian.sh: DOMAIN must be a host name such as printerfacts.example.com, got: x/y;z\n",
    ]);
    const missing = await host.run(["bash", SCRIPT, "/nonexistent/printerfacts", DOMAIN]);
    expect([missing.status, missing.stderr]).toEqual([
      66,
      "install-debian.sh: /nonexistent/printerfacts is not an executable file\n",
    ]);
    expect(changedFiles()).toEqual(before);
    expect((await host.run(["getent", "passwd", "printerfacts"])).status).toBe(2);
  });

  test("an nginx configuration nginx -t rejects: the site is taken back, nothing else was changed", async () => {
    await makeCert();
    await host.writeFile("/etc/nginx/conf.d/broken.conf", "this is not nginx;\n");
    const before = changedFiles();
    const r = await install();
    expect(r.status).toBe(1);
    expect(r.stderr).toEndWith("install-debian.sh: nginx -t rejected the site; the previous one is back in place\n");
    expect(changedFiles()).toEqual(before);
    expect((await host.run(["getent", "passwd", "printerfacts"])).status).toBe(2);
    await host.ok(["rm", "/etc/nginx/conf.d/broken.conf"]);
  });

  test("installs: two instances and nginx active, HTTPS 200 on /fact and /, 404 on /metrics; socket 0660 printerfacts:printerfacts", async () => {
    await makeCert();
    const began = performance.now();
    const r = await install();
    console.log(`install-debian.sh took ${Math.round(performance.now() - began)} ms`);
    // systemd-sysusers says what it created; nothing else is said on stderr.
    expect(r.stderr.replace(/^Creating (user|group) 'printerfacts' .*\n/gm, "")).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `printerfacts is serving through nginx with 2 instance(s); try: curl https://${DOMAIN}/fact\n`,
    );

    for (const unit of ["printerfacts@1.service", "printerfacts@2.service", "nginx.service"]) {
      expect(await show(unit, "ActiveState", "UnitFileState")).toEqual({
        ActiveState: "active",
        UnitFileState: "enabled",
      });
    }
    const fact = await https("/fact");
    expect(fact.status).toBe(200);
    expect(fact.body.length).toBeGreaterThan(10);
    expect((await https("/")).status).toBe(200);
    expect((await https("/metrics")).status).toBe(404);
    for (const i of [1, 2]) {
      expect(await host.ok(["stat", "-c", "%F %a %U:%G", `/run/printerfacts-${i}/printerfacts.sock`])).toBe(
        "socket 660 printerfacts:printerfacts\n",
      );
      const { MainPID } = await show(`printerfacts@${i}.service`, "MainPID");
      expect(await host.ok(["ps", "-o", "user:20=,group:20=,comm=", "-p", MainPID])).toMatch(
        /^printerfacts +printerfacts +printerfacts\n$/,
      );
    }
    // One upstream line per instance in the site.
    const site = await host.ok(["cat", "/etc/nginx/sites-enabled/printerfacts"]);
    expect(site.match(/^\s*server unix:\S+/gm)).toEqual([
      "    server unix:/run/printerfacts-1/printerfacts.sock",
      "    server unix:/run/printerfacts-2/printerfacts.sock",
    ]);
  }, 60_000);

  test("systemctl stop: exit 0, Result=success, socket gone, the drain in the journal; start serves again", async () => {
    const unit = "printerfacts@1.service";
    const { InvocationID } = await show(unit, "InvocationID");
    expect((await host.run(["systemctl", "stop", unit])).status).toBe(0);
    expect(await show(unit, "ActiveState", "Result", "ExecMainStatus")).toEqual({
      ActiveState: "inactive",
      Result: "success",
      ExecMainStatus: "0",
    });
    expect((await host.run(["test", "-e", "/run/printerfacts-1/printerfacts.sock"])).status).toBe(1);
    await host.journal(`_SYSTEMD_INVOCATION_ID=${InvocationID}`, [
      "printerfacts info: SIGTERM: shutting down, draining for up to 10s",
      "printerfacts info: removed socket /run/printerfacts-1/printerfacts.sock",
      "printerfacts info: all requests finished",
      "printerfacts info: stopped",
    ]);
    // nginx sends everything to the other instance meanwhile.
    expect((await https("/fact")).status).toBe(200);
    await host.ok(["systemctl", "start", unit]);
    expect(
      (
        await host.ok(["curl", "-s", "--unix-socket", "/run/printerfacts-1/printerfacts.sock", "http://x/healthz"])
      ).trim(),
    ).toBe("ok");
  });

  test("systemctl kill -s HUP (and USR1, USR2): each is logged and ignored; the instance stays active, the same process, serving", async () => {
    const unit = "printerfacts@1.service";
    const before = await show(unit, "MainPID", "InvocationID");
    for (const signal of ["HUP", "USR1", "USR2"]) await host.ok(["systemctl", "kill", "-s", signal, unit]);
    // Each line is written once its signal was handled: then the process has lived through all three.
    const lines = [
      "printerfacts warn: SIGHUP ignored: there is no configuration to reload",
      "printerfacts warn: SIGUSR1 ignored",
      "printerfacts warn: SIGUSR2 ignored",
    ];
    await host.journal(`_SYSTEMD_INVOCATION_ID=${before.InvocationID}`, lines);
    expect(await show(unit, "ActiveState", "MainPID")).toEqual({ ActiveState: "active", MainPID: before.MainPID });
    expect(
      (
        await host.ok(["curl", "-s", "--unix-socket", "/run/printerfacts-1/printerfacts.sock", "http://x/healthz"])
      ).trim(),
    ).toBe("ok");
    expect((await https("/fact")).status).toBe(200);
  });

  test("running it again with a new binary restarts the instances one at a time; 0 of the requests through nginx fail", async () => {
    const pids = await Promise.all(
      [1, 2].map(async (i) => (await show(`printerfacts@${i}.service`, "MainPID")).MainPID),
    );
    // Two clients, each a curl reusing its connection to nginx, until told to stop.
    const load = host.spawn([
      "bash",
      "-c",
      `urls=(); for i in $(seq 20); do urls+=(-o /dev/null "https://${DOMAIN}/fact"); done
       client() { while [ ! -e /tmp/stop-load ]; do
         curl -s -w '%{http_code}\\n' --max-time 10 --resolve ${DOMAIN}:443:127.0.0.1 --cacert ${CERT}/fullchain.pem "\${urls[@]}"; done; }
       client & client & wait`,
    ]);
    const counted = () => load.stdout().split("\n").filter(Boolean);
    await eventually(() => counted().length >= 40, {
      what: () => `40 answers to the load; got ${counted().length}, stderr: ${load.stderr()}`,
      timeoutMs: 20_000,
    });
    const before = counted().length;
    const r = await install();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const during = counted().length - before;
    await host.ok(["touch", "/tmp/stop-load"]);
    expect(await load.exited).toBe(0);
    const statuses = counted();
    const failed = statuses.filter((s) => s !== "200");
    console.log(
      `update under load: ${statuses.length} requests through nginx, ${during} of them during the update, ${failed.length} failed`,
    );
    const errorLog = await host.ok(["cat", "/var/log/nginx/error.log"]);
    expect(failed, `requests that failed; nginx's error.log:\n${errorLog}`).toEqual([]);
    // The update happened under load, not beside it.
    expect(during).toBeGreaterThan(40);
    // Both restarted, now running the binary the update installed.
    const installed = (await host.ok(["stat", "-L", "-c", "%d:%i", "/usr/local/bin/printerfacts"])).trim();
    for (const [n, i] of [1, 2].entries()) {
      const { MainPID } = await show(`printerfacts@${i}.service`, "MainPID");
      expect(MainPID).not.toBe(pids[n]);
      expect((await host.ok(["stat", "-L", "-c", "%d:%i", `/proc/${MainPID}/exe`])).trim()).toBe(installed);
    }
    // systemd's own record of the order: @2 left active only after @1 was active again (its
    // ExecStartPost had seen the socket), and @2's new process started after that.
    const times = async (i: number) => {
      const t = await show(
        `printerfacts@${i}.service`,
        "ActiveEnterTimestampMonotonic",
        "ActiveExitTimestampMonotonic",
      );
      return { active: Number(t.ActiveEnterTimestampMonotonic), left: Number(t.ActiveExitTimestampMonotonic) };
    };
    const [one, two] = [await times(1), await times(2)];
    expect(two.left).toBeGreaterThan(one.active);
    expect(two.active).toBeGreaterThan(two.left);

    // deploy-debian.md's account of the update's log lines, held to this update's logs: its example
    // lines are there, and its commands count the retried requests and no failed one.
    const page = readFileSync(join(ROOT, "docs/deploy-debian.md"), "utf8").replaceAll(
      "printerfacts.example.com",
      DOMAIN,
    );
    const [crit, retried] = [...page.matchAll(/^```log\n(.*)\n```$/gm)].map((m) => m[1].replace(/-[12]\//g, "-…/"));
    expect(shows(errorLog, [crit]), `error.log:\n${errorLog}`).toBe(true);
    expect(shows(await host.ok(["cat", "/var/log/nginx/printerfacts.access.log"]), [retried])).toBe(true);
    const counting = page.match(/^```sh\n(echo "retried[\s\S]*?)^```\n+```text\n([\s\S]*?)^```$/m);
    const tally = await host.ok(["bash", "-c", counting?.[1] ?? "false"]);
    expect(shows(tally, (counting?.[2] ?? "").trimEnd().split("\n")), tally).toBe(true);
    expect(Number(tally.match(/^retried, then answered: (\d+)$/m)?.[1])).toBeGreaterThan(0);
    // Every [crit] line is one of those: a missing socket, while connecting to an instance.
    for (const line of errorLog.split("\n").filter((l) => l.includes("[crit]")))
      expect(line).toMatch(
        /connect\(\) to unix:\/run\/printerfacts-\d\/printerfacts\.sock failed \(2: No such file or directory\) while connecting to upstream/,
      );
  }, 90_000);

  // After the update test: their 502s, while the only instance up restarts, would be counted by
  // deploy-debian.md's recipe for telling an update's [crit] lines from real failures.
  test.each([
    ["rm the socket", ["rm", "/run/printerfacts-1/printerfacts.sock"]],
    ["rm -r the RuntimeDirectory", ["rm", "-r", "/run/printerfacts-1"]],
  ])(
    "%s of a running printerfacts@1 (the only one up): one error line, exit 75, restarted; nginx serves through it again within 10 s",
    async (what, remove) => {
      const unit = "printerfacts@1.service";
      const sock = "/run/printerfacts-1/printerfacts.sock";
      await host.ok(["systemctl", "stop", "printerfacts@2.service"]); // so nginx has only instance 1
      expect((await https("/healthz")).status).toBe(200);
      const { InvocationID } = await show(unit, "InvocationID");
      const { NRestarts } = await show(unit, "NRestarts");
      await host.ok(remove);
      const removed = Date.now();
      try {
        // Until systemd has started it again and nginx gets 200 through it (not through a keep-alive
        // connection to the old process, which is still draining at first).
        let status = 0;
        let restarted = false;
        while (Date.now() - removed < 10_000) {
          restarted ||= Number((await show(unit, "NRestarts")).NRestarts) > Number(NRestarts);
          status = restarted ? (await https("/healthz")).status : 0;
          if (status === 200) break;
          await Bun.sleep(100);
        }
        const ms = Date.now() - removed;
        console.log(`${what}: restarted, and nginx served through instance 1 again after ${ms} ms`);
        expect(status).toBe(200);
        expect(ms).toBeLessThan(10_000);
        // nginx reaches the new process as soon as its socket is linked, a moment before
        // ExecStartPost (which waits for that socket) has let systemd call the unit active.
        await eventually(async () => (await show(unit, "ActiveState")).ActiveState === "active", {
          what: `${unit} to be active again`,
        });
        expect(await host.ok(["stat", "-c", "%F %a %U:%G", sock])).toBe("socket 660 printerfacts:printerfacts\n");
        expect(await host.ok(["stat", "-c", "%a %U:%G", "/run/printerfacts-1"])).toBe(
          "750 printerfacts:printerfacts\n",
        );
        const journal = await host.journal(`_SYSTEMD_INVOCATION_ID=${InvocationID}`, [
          "printerfacts info: all requests finished",
        ]);
        expect(journal.split("\n").filter((line) => line.startsWith("printerfacts error:"))).toEqual([
          `printerfacts error: ${sock} is gone (removed while serving): no new client can reach this process; draining and exiting with status 75 to be started again`,
        ]);
      } finally {
        await host.ok(["systemctl", "start", "printerfacts@2.service"]);
      }
    },
    30_000,
  );

  test("INSTANCES chooses the number of instances: 3, then back to 2", async () => {
    expect((await install({ INSTANCES: "3" })).status).toBe(0);
    expect((await show("printerfacts@3.service", "ActiveState")).ActiveState).toBe("active");
    const site = () =>
      host.ok(["grep", "-c", "server unix:/run/printerfacts-", "/etc/nginx/sites-enabled/printerfacts"]);
    expect(await site()).toBe("3\n");
    expect((await https("/fact")).status).toBe(200);
    expect((await install({ INSTANCES: "2" })).status).toBe(0);
    expect(await site()).toBe("2\n");
    expect(await show("printerfacts@3.service", "ActiveState", "UnitFileState")).toEqual({
      ActiveState: "inactive",
      UnitFileState: "disabled",
    });
    expect((await https("/fact")).status).toBe(200);
  }, 60_000);
});

// `printerfacts check` on the installed host: each case it finds, its fix exactly as printed, run,
// and then check passes.
describe("printerfacts check, and each fix it prints", () => {
  const withEnv = (args = "") => `env $(systemctl show -P Environment printerfacts@1) printerfacts check ${args}`;

  test("without the service's environment: it says it looked at TCP because SOCKPATH is unset; its fix passes", async () => {
    const r = await host.run(["printerfacts", "check"]);
    expect(r.stdout).toBe(
      "SOCKPATH is not set, so this looked at TCP [::]:3000, the default; the service's socket is in its environment\n" +
        "fix: env $(systemctl show -P Environment printerfacts@1) printerfacts check\n" +
        "GET /healthz: could not connect: ECONNREFUSED (nothing listens on [::]:3000)\n",
    );
    expect(r.status).toBe(1);
    const fixed = await host.run(["bash", "-c", r.stdout.match(/^fix: (.*)$/m)?.[1] ?? "false"]);
    expect(fixed.stdout).toContain("yes: www-data can connect to /run/printerfacts-1/printerfacts.sock\n");
    expect(fixed.status).toBe(0);
  });

  test("USER given, out of the socket's group: adduser, then restart nginx; run as printed, check passes", async () => {
    await host.ok(["bash", "-c", "gpasswd -d www-data printerfacts && systemctl restart nginx"]);
    const r = await host.run(["bash", "-c", withEnv("www-data")]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(
      "no: www-data may not search /run/printerfacts-1 (0750 printerfacts:printerfacts; www-data gets the other bits)\n" +
        "fix: adduser www-data printerfacts\n" +
        "     then systemctl restart nginx (its workers take their groups when nginx starts)\n",
    );
    expect((await https("/fact")).status).toBe(502);
    const fix = r.stdout.match(/^fix: (.*)\n {5}then (.*?) \(/m);
    await host.ok(["bash", "-c", `${fix?.[1]} && ${fix?.[2]}`]);
    expect((await host.run(["bash", "-c", withEnv("www-data")])).status).toBe(0);
    expect((await https("/fact")).status).toBe(200);
  });

  test("a 0600 socket of a group www-data is in: SOCKMODE=0660 in the service's environment; set so, check passes", async () => {
    const dropIn = "/etc/systemd/system/printerfacts@1.service.d/mode.conf";
    const restart = async (setting: string) => {
      await host.writeFile(dropIn, `[Service]\nEnvironment=${setting}\n`);
      await host.ok(["bash", "-c", "systemctl daemon-reload && systemctl restart printerfacts@1"]);
    };
    await restart("SOCKMODE=0600");
    const r = await host.run(["bash", "-c", withEnv()]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(
      "no: www-data may not connect to /run/printerfacts-1/printerfacts.sock (0600 printerfacts:printerfacts; connecting needs write, and www-data gets the group printerfacts bits)\n" +
        "fix: SOCKMODE=0660 in the service's environment (its group printerfacts may then connect), then restart the service\n",
    );
    await restart(r.stdout.match(/^fix: (SOCKMODE=\d+) /m)?.[1] ?? "-");
    expect((await host.run(["bash", "-c", withEnv()])).status).toBe(0);
    await host.ok(["rm", dropIn]);
    await host.ok(["bash", "-c", "systemctl daemon-reload && systemctl restart printerfacts@1"]);
  });
});

describe("printerfacts.service, as shipped", () => {
  const unit = "printerfacts.service";
  const dropIn = (text: string) =>
    host.writeFile("/etc/systemd/system/printerfacts.service.d/test.conf", `[Service]\n${text}\n`);
  const journalOf = async (invocation: string) =>
    (await host.ok(["journalctl", "--no-pager", "-o", "cat", `_SYSTEMD_INVOCATION_ID=${invocation}`]))
      .split("\n")
      .filter((l) => l.startsWith("printerfacts "));

  // As its header says: the binary in /usr/local/bin, the user from printerfacts.sysusers.
  beforeAll(async () => {
    await host.copyIn(BINARY, "/usr/local/bin/printerfacts", 0o755);
    await host.copyIn(join(ROOT, "deploy/systemd/printerfacts.sysusers"), "/etc/sysusers.d/printerfacts.conf");
    await host.ok(["systemd-sysusers"]);
    await host.copyIn(join(ROOT, "deploy/systemd/printerfacts.service"), `/etc/systemd/system/${unit}`);
    await host.ok(["systemctl", "daemon-reload"]);
  });

  test("serves as printerfacts on /run/printerfacts/printerfacts.sock (0660); stop is exit 0, Result=success, socket gone", async () => {
    await host.ok(["systemctl", "start", unit]);
    expect(await host.ok(["stat", "-c", "%F %a %U:%G", "/run/printerfacts/printerfacts.sock"])).toBe(
      "socket 660 printerfacts:printerfacts\n",
    );
    expect(await host.ok(["stat", "-c", "%a %U:%G", "/run/printerfacts"])).toBe("750 printerfacts:printerfacts\n");
    const { MainPID, InvocationID } = await show(unit, "MainPID", "InvocationID");
    expect(await host.ok(["ps", "-o", "user:20=", "-p", MainPID])).toBe("printerfacts\n");
    expect(
      (
        await host.ok(["curl", "-s", "--unix-socket", "/run/printerfacts/printerfacts.sock", "http://x/healthz"])
      ).trim(),
    ).toBe("ok");
    expect((await host.run(["systemctl", "stop", unit])).status).toBe(0);
    expect(await show(unit, "Result", "ExecMainStatus")).toEqual({ Result: "success", ExecMainStatus: "0" });
    expect((await host.run(["test", "-e", "/run/printerfacts/printerfacts.sock"])).status).toBe(1);
    await host.journal(`_SYSTEMD_INVOCATION_ID=${InvocationID}`, ["printerfacts info: all requests finished"]);
  });

  // Each: a drop-in that makes the mistake, the exit status, and the one line naming the fix.
  const mistakes: [string, string, number, string][] = [
    [
      "SOCKPATH's directory missing",
      "Environment=SOCKPATH=/run/elsewhere/printerfacts.sock",
      1,
      "printerfacts error: the directory /run/elsewhere for SOCKPATH does not exist; create it first (under systemd: RuntimeDirectory=printerfacts gives /run/printerfacts)",
    ],
    [
      "a file in the way",
      // "+": as root, outside the sandbox, after systemd made /run/printerfacts.
      "ExecStartPre=+/bin/sh -c 'echo keep > /run/printerfacts/printerfacts.sock'",
      1,
      "printerfacts error: /run/printerfacts/printerfacts.sock exists and is a regular file, not a socket; refusing to touch it: move it away or choose another SOCKPATH",
    ],
    [
      "a group the process is not in",
      "Environment=SOCKGROUP=root",
      78,
      'printerfacts error: config: SOCKGROUP="root" cannot be used: this process is not in group 0, so it may not give the socket to it: add the user to that group (under systemd: SupplementaryGroups=) or choose another SOCKGROUP',
    ],
    [
      "a port taken",
      "UnsetEnvironment=SOCKPATH SOCKMODE\nEnvironment=PORT=8081 HOST=127.0.0.1\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
      1,
      "printerfacts error: cannot listen on 127.0.0.1:8081 (HOST=127.0.0.1 PORT=8081): another process is listening there",
    ],
  ];

  test.each(mistakes)(
    "%s: fails once, stays failed, one journal line names the fix",
    async (what, settings, status, line) => {
      // For "a port taken": another process on that port first.
      const holder =
        what === "a port taken"
          ? host.spawn(["env", "PORT=8081", "HOST=127.0.0.1", "/usr/local/bin/printerfacts"])
          : undefined;
      if (holder)
        await eventually(async () => (await host.run(["curl", "-s", "http://127.0.0.1:8081/healthz"])).status === 0, {
          what: () => `the holder to answer on port 8081; stderr: ${holder.stderr()}`,
          intervalMs: 50,
        });
      await dropIn(settings);
      await host.ok(["systemctl", "daemon-reload"]);
      // ExecStartPost waits for the socket; the process exits first, so the start fails (on TCP
      // there is no socket to wait for: the start succeeds and the process fails right after).
      const r = await host.run(["systemctl", "start", unit]);
      if (what !== "a port taken") expect(r.status).not.toBe(0);
      // A fixed wait on purpose: that no restart comes is what is tested (well past RestartSec=1s).
      await Bun.sleep(1500);
      const s = await show(unit, "ActiveState", "Result", "ExecMainStatus", "NRestarts", "InvocationID");
      expect([s.ActiveState, s.Result, s.ExecMainStatus, s.NRestarts]).toEqual([
        "failed",
        "exit-code",
        String(status),
        "0",
      ]);
      expect(await journalOf(s.InvocationID)).toEqual([line]);
      holder?.kill("SIGKILL");
      await host.run(["rm", "-rf", "/etc/systemd/system/printerfacts.service.d"]);
      await host.ok(["systemctl", "daemon-reload"]);
      await host.run(["systemctl", "reset-failed", unit]);
    },
    30_000,
  );

  test("a crash (exit 70) is restarted, and it serves again", async () => {
    // A build whose /fail/timer throws outside any request (test/fixtures/failing-main.ts).
    await dropIn(
      `ExecStart=\nExecStart=${host.pathOf(BUN)} ${host.pathOf(join(ROOT, "test/fixtures/failing-main.ts"))}\nEnvironment=HOME=/nonexistent`,
    );
    await host.ok(["systemctl", "daemon-reload"]);
    await host.ok(["systemctl", "start", unit]);
    const sock = "/run/printerfacts/printerfacts.sock";
    const before = await show(unit, "MainPID", "NRestarts");
    await host.run(["curl", "-s", "--unix-socket", sock, "http://x/fail/timer"]);
    let after = before;
    await eventually(
      async () => {
        after = await show(unit, "MainPID", "NRestarts");
        return after.NRestarts !== "0" && after.MainPID !== before.MainPID && after.MainPID !== "0";
      },
      { what: () => `a restart with a new MainPID; now ${JSON.stringify(after)}`, timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(after.NRestarts).toBe("1");
    await host.journal(`--unit=${unit}`, ["status=70/SOFTWARE"]);
    // The new process is "activating" until its socket is there (ExecStartPost), then serves.
    await eventually(async () => (await show(unit, "ActiveState")).ActiveState === "active", {
      what: `${unit} to be active again`,
      intervalMs: 50,
    });
    expect((await host.ok(["curl", "-s", "--unix-socket", sock, "http://x/healthz"])).trim()).toBe("ok");
    await host.ok(["systemctl", "stop", unit]);
    await host.ok(["rm", "-rf", "/etc/systemd/system/printerfacts.service.d"]);
    await host.ok(["systemctl", "daemon-reload"]);
  }, 30_000);
});

describe("systemd-analyze security", () => {
  test("exposure at most 2.0 for printerfacts.service and printerfacts@.service", async () => {
    for (const unit of ["printerfacts.service", "printerfacts@1.service"]) {
      const out = await host.ok(["systemd-analyze", "security", "--no-pager", unit]);
      const level = Number(out.match(/Overall exposure level for \S+: ([\d.]+)/)?.[1]);
      console.log(`${unit}: exposure ${level}`);
      expect(level).toBeLessThanOrEqual(2.0);
    }
  });
});

test("an update over an earlier install's single printerfacts.service: instances serve, the single service is disabled and gone", async () => {
  // The single service, enabled and running as an earlier version of the script left it.
  await host.ok(["systemctl", "enable", "--now", "printerfacts.service"]);
  const r = await install();
  expect(r.status).toBe(0);
  expect(await show("printerfacts.service", "ActiveState", "LoadState")).toEqual({
    ActiveState: "inactive",
    LoadState: "not-found",
  });
  for (const unit of ["printerfacts@1.service", "printerfacts@2.service"])
    expect((await show(unit, "ActiveState")).ActiveState).toBe("active");
  expect((await https("/fact")).status).toBe(200);
}, 60_000);

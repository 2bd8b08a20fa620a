// The throwaway systemd host itself (test/helpers/systemd-host.ts): it boots, runs units, keeps its
// hands off the machine, and is gone after stop().
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { BINARY } from "./helpers/server.ts";
import { bootSystemdHost, cgroup2Dir, isRunning, type SystemdHost } from "./helpers/systemd-host.ts";

// A file in the machine's /tmp before the boot: systemd-tmpfiles must not have emptied it.
const marker = join(tmpdir(), `pf-systemd-host-marker-${process.pid}`);
let host: SystemdHost;
// A directory of the machine's /tmp, shown in the host (share) where the host's /tmp would hide it.
const shared = mkdtempSync(join(tmpdir(), "pf-systemd-host-shared-"));
writeFileSync(join(shared, "f"), "shared\n");

beforeAll(async () => {
  writeFileSync(marker, "still here\n");
  host = await bootSystemdHost({ share: { [shared]: "/opt/pf-shared" } });
  console.log(`systemd host booted in ${host.bootMs} ms`);
}, 60_000);
afterAll(async () => {
  await host?.stop();
  rmSync(marker, { force: true });
  rmSync(shared, { recursive: true, force: true });
});

test("systemd is PID 1 in there and the boot finished", async () => {
  expect((await host.ok(["cat", "/proc/1/comm"])).trim()).toBe("systemd");
  expect((await host.run(["systemctl", "is-system-running"])).stdout.trim()).toMatch(/^(running|degraded)$/);
  expect(await host.ok(["systemd-detect-virt", "--container"])).toBe("container-other\n");
  // Nothing the host masks or does not need has failed, so "degraded" would be news.
  expect(await host.ok(["systemctl", "--failed", "--plain", "--no-legend"])).toBe("");
});

test("the machine's /tmp is untouched, and the host has its own /tmp, /run and /etc", async () => {
  expect(readFileSync(marker, "utf8")).toBe("still here\n");
  expect((await host.run(["test", "-e", marker])).status).not.toBe(0);
  await host.writeFile("/etc/pf-host-only", "x\n");
  await host.writeFile("/tmp/pf-host-only", "x\n");
  expect(existsSync("/etc/pf-host-only")).toBe(false);
  expect(existsSync("/tmp/pf-host-only")).toBe(false);
  // The machine's own files are read-only in there.
  expect((await host.run(["touch", "/pf-host-root-write"])).status).not.toBe(0);
  expect(existsSync("/pf-host-root-write")).toBe(false);
});

test("units run, the journal has their lines, loopback works", async () => {
  await host.writeFile(
    "/etc/systemd/system/pf-hello.service",
    "[Service]\nType=oneshot\nRemainAfterExit=yes\nDynamicUser=yes\nExecStart=/bin/sh -c 'echo hello from uid $$(id -u)'\n",
  );
  await host.ok(["systemctl", "daemon-reload"]);
  await host.ok(["systemctl", "start", "pf-hello.service"]);
  // A user systemd made for it: not root.
  expect(await host.journal("--unit=pf-hello.service", ["hello from uid "])).toMatch(/hello from uid [1-9]\d*\n/);
  expect(await host.ok(["ip", "-br", "link", "show", "lo"])).toMatch(/UP/);
  // A listener inside is reachable inside, and the host has no other network.
  await host.copyIn(BINARY, "/usr/local/bin/printerfacts", 0o755);
  const served = host.spawn(["env", "PORT=8099", "HOST=127.0.0.1", "/usr/local/bin/printerfacts"]);
  let status = "";
  await eventually(
    async () => {
      status = (
        await host.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8099/healthz"])
      ).stdout;
      return status === "200";
    },
    { what: () => `a 200 from /healthz inside the host (last: ${status || "none"})`, intervalMs: 50 },
  );
  expect(status).toBe("200");
  served.kill("SIGKILL");
  expect(await host.ok(["ip", "-br", "link"])).not.toMatch(/eth|ens|enp/);
});

test("share shows a machine directory read-only in the host; pathOf maps its paths", async () => {
  expect(host.pathOf(join(shared, "f"))).toBe("/opt/pf-shared/f");
  expect(host.pathOf("/usr/bin/env")).toBe("/usr/bin/env");
  expect(await host.ok(["cat", host.pathOf(join(shared, "f"))])).toBe("shared\n");
  expect((await host.run(["touch", "/opt/pf-shared/g"])).status).not.toBe(0);
  expect(existsSync(join(shared, "g"))).toBe(false);
  await expect(bootSystemdHost({ share: { [shared]: "/srv/x" } })).rejects.toThrow(
    "is not under /opt, /usr/local, /etc or /var",
  );
});

test("copyIn copies a file of the machine's /tmp into the host", async () => {
  await host.copyIn(marker, "/usr/local/share/pf-marker", 0o600);
  expect(await host.ok(["cat", "/usr/local/share/pf-marker"])).toBe("still here\n");
  expect(await host.ok(["stat", "-c", "%a", "/usr/local/share/pf-marker"])).toBe("600\n");
});

test("stop() kills every process in it and removes its state; the machine is as before", async () => {
  const other = await bootSystemdHost();
  const { pid, stateDir } = other;
  // Its cgroup (a child of ours): PID 1's group, or the pf-systemd-host-* group above it.
  const own = readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("0::"));
  const group = cgroup2Dir(own?.slice(3).match(/^.*\/pf-systemd-host-[^/]+/)?.[0] ?? "/(no pf-systemd-host group)");
  expect(group && existsSync(group)).toBe(true);
  await other.stop();
  await other.stop();
  expect(isRunning(pid)).toBe(false);
  expect(existsSync(stateDir)).toBe(false);
  // ...is gone too.
  expect(existsSync(group ?? "")).toBe(false);
  expect(readFileSync(marker, "utf8")).toBe("still here\n");
}, 60_000);

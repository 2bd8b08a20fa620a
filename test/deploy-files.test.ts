// The shipped deployment files are accepted by the tools that will read them: nginx -t,
// systemd-analyze verify and nix-instantiate --parse. Warnings count as failures: systemd only
// warns about an unknown key or a bad value and then ignores the line. (That they also work is
// shown by running them under systemd: test/systemd-*.test.ts.)
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, nginxTest, selfSignedCert, writeConfig } from "./helpers/nginx.ts";
import { ROOT, tempDir } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const SYSTEMD = join(ROOT, "deploy/systemd");

function run(argv: string[], env: Record<string, string> = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Copy units into `into`, pointing ExecStart at a program that exists here (verify checks that it
 * is executable); everything else is verified as shipped.
 */
function stage(into: string, files: Record<string, string>, execStart: string) {
  mkdirSync(into, { recursive: true });
  for (const [name, source] of Object.entries(files)) {
    const text = readFileSync(join(SYSTEMD, source), "utf8");
    const line = text.match(/^ExecStart=.*$/m)?.[0];
    writeFileSync(join(into, name), line ? text.replace(line, `ExecStart=${execStart}`) : text);
  }
}

/** systemd-analyze verify, which must pass without a single warning. */
function expectVerified(paths: string[], env: Record<string, string> = {}) {
  const r = run(["systemd-analyze", "verify", ...paths], env);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}

describe("nginx", () => {
  test("nginx -t accepts deploy/nginx/printerfacts.conf", async () => {
    const prefix = join(dir.path, "nginx-t");
    mkdirSync(prefix);
    const conf = writeConfig(prefix, {
      sockets: [join(prefix, "a.sock")],
      httpPort: await freePort(),
      httpsPort: await freePort(),
      cert: selfSignedCert(prefix),
    });
    const result = nginxTest(conf, prefix);
    expect(result.output).toContain("syntax is ok");
    expect(result.output).toContain("test is successful");
    expect(result.output).not.toContain("[warn]");
    expect(result.status).toBe(0);
  });
});

describe("systemd-analyze verify", () => {
  test("accepts printerfacts.service and the per-instance printerfacts@.service", () => {
    const units = join(dir.path, "units");
    stage(
      units,
      { "printerfacts.service": "printerfacts.service", "printerfacts@.service": "printerfacts@.service" },
      "/bin/true",
    );
    expectVerified([join(units, "printerfacts.service"), join(units, "printerfacts@a.service")]);
  });

  test("accepts the socket-activated pair", () => {
    const units = join(dir.path, "activation");
    stage(
      units,
      {
        "printerfacts.socket": "socket-activation/printerfacts.socket",
        "printerfacts.service": "socket-activation/printerfacts.service",
      },
      "/bin/true",
    );
    expectVerified([join(units, "printerfacts.socket"), join(units, "printerfacts.service")]);
  });

  test("accepts the nginx drop-in on an nginx.service", () => {
    const units = join(dir.path, "nginx-dropin");
    mkdirSync(join(units, "nginx.service.d"), { recursive: true });
    writeFileSync(join(units, "nginx.service"), "[Service]\nExecStart=/bin/true\n");
    copyFileSync(join(SYSTEMD, "nginx.service.d/printerfacts.conf"), join(units, "nginx.service.d/printerfacts.conf"));
    // The trailing ":" keeps systemd's own unit directories after ours.
    expectVerified([join(units, "nginx.service")], { SYSTEMD_UNIT_PATH: `${units}:` });
  });

  test("systemd-sysusers accepts printerfacts.sysusers: a printerfacts user and group", () => {
    const root = join(dir.path, "sysusers-root");
    mkdirSync(join(root, "etc"), { recursive: true });
    const r = run(["systemd-sysusers", `--root=${root}`, "--dry-run", join(SYSTEMD, "printerfacts.sysusers")]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toContain("Creating group 'printerfacts'");
    expect(r.stdout + r.stderr).toMatch(/Creating user 'printerfacts' .* GID (\d+)/);
  });

  test("would report a mistake: an unknown key is a warning on stderr, so these tests can fail", () => {
    const units = join(dir.path, "broken");
    stage(units, { "printerfacts.service": "printerfacts.service" }, "/bin/true");
    const path = join(units, "printerfacts.service");
    writeFileSync(path, readFileSync(path, "utf8").replace("ProtectHome=yes", "ProtectHom=yes"));
    expect(run(["systemd-analyze", "verify", path]).stderr).toContain("Unknown key 'ProtectHom'");
  });

  test("printerfacts@.service is printerfacts.service with a socket and runtime directory per instance", () => {
    const settings = (unit: string) =>
      readFileSync(join(SYSTEMD, unit), "utf8")
        .split("\n")
        .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("Description="));
    const perInstance = settings("printerfacts@.service").map((line) =>
      line.replaceAll("printerfacts-%i", "printerfacts"),
    );
    expect(perInstance).toEqual(settings("printerfacts.service"));
    expect(settings("printerfacts@.service")).toContain("Environment=SOCKPATH=/run/printerfacts-%i/printerfacts.sock");
  });

  test("the service outlives its drain and is not restarted after a configuration error", () => {
    for (const unit of ["printerfacts.service", "printerfacts@.service", "socket-activation/printerfacts.service"]) {
      const text = readFileSync(join(SYSTEMD, unit), "utf8");
      const drain = Number(text.match(/^Environment=SHUTDOWN_TIMEOUT=(\d+)$/m)?.[1]);
      const stop = Number(text.match(/^TimeoutStopSec=(\d+)$/m)?.[1]);
      expect(stop).toBeGreaterThan(drain);
      expect(text).toMatch(/^RestartPreventExitStatus=.*\b78\b/m);
    }
  });
});

describe("NixOS", () => {
  test("nix-instantiate --parse accepts deploy/nixos/module.nix", () => {
    const r = run(["nix-instantiate", "--parse", join(ROOT, "deploy/nixos/module.nix")]);
    expect(r.stderr).not.toContain("error:");
    expect(r.status).toBe(0);
  });
});

// deploy/nixos/module.nix, run for real as far as this machine can: nixpkgs' own lib.evalModules
// evaluates it (the NixOS options it sets are declared as stubs), the systemd.services.printerfacts
// it produces is rendered into a unit file the way NixOS renders one, and systemd as PID 1 in a
// throwaway host runs that unit as the printerfacts user.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findNixpkgsLib } from "./helpers/nixpkgs-lib.ts";
import { BINARY, ROOT, tempDir } from "./helpers/server.ts";
import { bootSystemdHost, type SystemdHost } from "./helpers/systemd-host.ts";

// Found by test/setup.ts before any test runs, or the run stopped there with one line (the same
// line here, should a run's command line have hidden this file from it).
const { lib: LIB, missing } = findNixpkgsLib();
if (missing) throw new Error(missing);
const dir = tempDir();
let host: SystemdHost;

beforeAll(async () => {
  host = await bootSystemdHost();
  console.log(`systemd host booted in ${host.bootMs} ms`);
}, 60_000);
afterAll(async () => {
  await host?.stop();
  dir.cleanup();
});

type Value = string | number | boolean | Value[];
interface NixService {
  description: string;
  environment: Record<string, string>;
  serviceConfig: Record<string, Value>;
  wantedBy: string[];
}

/** The module evaluated by lib.evalModules with `config`; the package's bin/ is /usr/local/bin. */
function evaluate(config: string): NixService {
  const file = join(dir.path, "eval.nix");
  writeFileSync(
    file,
    `let
  lib = import ${LIB};
  inherit (lib) mkOption types;
  # Stubs for the NixOS options the module sets, which nixpkgs' lib alone does not declare.
  anything = mkOption { type = types.attrsOf types.anything; default = { }; };
  stubs = {
    options.users.users = anything;
    options.users.groups = anything;
    options.systemd.services = anything;
    options.services.nginx = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf types.anything;
        options.user = mkOption { type = types.str; default = "nginx"; };
      };
      default = { };
    };
  };
  package = { type = "derivation"; name = "printerfacts"; outPath = "/usr/local"; };
in (lib.evalModules {
  modules = [ stubs ${join(ROOT, "deploy/nixos/module.nix")} { services.printerfacts = { enable = true; inherit package; } // ${config}; } ];
  specialArgs.pkgs = { };
}).config.systemd.services.printerfacts
`,
  );
  const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`nix-instantiate failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** As NixOS's systemd-lib does: a list is one line per item, booleans are true/false. */
function render(svc: NixService): string {
  const line = (key: string, value: Value): string[] =>
    Array.isArray(value)
      ? value.flatMap((v) => line(key, v))
      : [`${key}=${value === true ? "true" : value === false ? "false" : String(value)}`];
  return [
    "[Unit]",
    `Description=${svc.description}`,
    "",
    "[Service]",
    ...Object.entries(svc.environment).map(([k, v]) => `Environment="${k}=${v}"`),
    ...Object.entries(svc.serviceConfig).flatMap(([k, v]) => line(k, v)),
    "",
    "[Install]",
    ...svc.wantedBy.map((t) => `WantedBy=${t}`),
    "",
  ].join("\n");
}

/** The [Service] settings of a unit file, booleans and quoting made alike, sorted. */
function settings(unit: string): string[] {
  const service = unit.slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"));
  return service
    .split("\n")
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("["))
    .map((l) =>
      l
        .replace(/^Environment="(.*)"$/, "Environment=$1")
        .replace(/=yes$/, "=true")
        .replace(/=no$/, "=false"),
    )
    .sort();
}

const shipped = readFileSync(join(ROOT, "deploy/systemd/printerfacts.service"), "utf8");

test("its unit has the shipped printerfacts.service's settings, every one", () => {
  const unit = render(evaluate('{ domain = "facts.example.org"; }'));
  expect(settings(unit)).toEqual(settings(shipped));
});

test("where they differ, they must: metrics on TCP add the address families TCP needs", () => {
  const unit = render(evaluate("{ metrics.enable = true; }"));
  const nix = settings(unit);
  const ship = settings(shipped);
  expect({
    onlyNixos: nix.filter((l) => !ship.includes(l)),
    onlyShipped: ship.filter((l) => !nix.includes(l)),
  }).toEqual({
    onlyNixos: [
      "Environment=METRICS_HOST=127.0.0.1",
      "Environment=METRICS_PORT=9464",
      "RestrictAddressFamilies=AF_INET",
      "RestrictAddressFamilies=AF_INET6",
    ],
    onlyShipped: [],
  });
});

test("systemd runs the rendered unit as printerfacts: it serves, exposure at most 2.0, stops cleanly", async () => {
  const unit = render(evaluate('{ domain = "facts.example.org"; }'));
  await host.copyIn(BINARY, "/usr/local/bin/printerfacts", 0o755);
  // NixOS makes the user from users.users; here the shipped sysusers file makes the same one.
  await host.copyIn(join(ROOT, "deploy/systemd/printerfacts.sysusers"), "/etc/sysusers.d/printerfacts.conf");
  await host.ok(["systemd-sysusers"]);
  await host.writeFile("/etc/systemd/system/printerfacts.service", unit);
  await host.ok(["systemctl", "daemon-reload"]);
  await host.ok(["systemctl", "start", "printerfacts.service"]);
  const sock = "/run/printerfacts/printerfacts.sock";
  expect(await host.ok(["stat", "-c", "%F %a %U:%G", sock])).toBe("socket 660 printerfacts:printerfacts\n");
  const pid = (await host.ok(["systemctl", "show", "-p", "MainPID", "--value", "printerfacts.service"])).trim();
  expect(await host.ok(["ps", "-o", "user:20=", "-p", pid])).toBe("printerfacts\n");
  const res = await host.run(["curl", "-sS", "-w", "\n%{http_code}", "--unix-socket", sock, "http://x/fact"]);
  expect(res.stdout.split("\n").at(-1)).toBe("200");
  const security = await host.ok(["systemd-analyze", "security", "--no-pager", "printerfacts.service"]);
  const level = Number(security.match(/Overall exposure level for \S+: ([\d.]+)/)?.[1]);
  console.log(`NixOS module's unit: exposure ${level}`);
  expect(level).toBeLessThanOrEqual(2.0);
  await host.ok(["systemctl", "stop", "printerfacts.service"]);
  expect((await host.ok(["systemctl", "show", "-p", "Result", "--value", "printerfacts.service"])).trim()).toBe(
    "success",
  );
  expect((await host.run(["test", "-e", sock])).status).toBe(1);
}, 30_000);

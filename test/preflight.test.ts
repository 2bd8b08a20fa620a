// A tool the suite needs but the machine lacks stops `bun test` before any test, with one line
// naming the tool and its Debian package (test/setup.ts), rather than failing deep in a helper.
// So do a checkout the service user cannot read, and nixpkgs' lib not found for the NixOS
// module's test. The unit layer needs none of them:
// `npm run test:unit` runs without that check.
import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { findNixpkgsLib } from "./helpers/nixpkgs-lib.ts";
import { BUN, ROOT } from "./helpers/server.ts";

test("without nginx on PATH, bun test exits 1 with one line: the tool and its package", () => {
  // PATH without the sbin directories, where Debian puts nginx; bun and the rest stay reachable.
  const PATH = [dirname(BUN), "/usr/bin", "/bin"].join(":");
  const r = Bun.spawnSync([BUN, "test", "test/unit/facts.test.ts"], {
    cwd: ROOT,
    env: { ...process.env, PATH },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(r.exitCode).toBe(1);
  const ours = `${r.stderr}`.split("\n").filter((line) => line.startsWith("test tool missing"));
  expect(ours).toEqual([
    "test tool missing: nginx (Debian package nginx: apt-get install nginx); the suite needs the real thing and does not skip",
  ]);
  expect(`${r.stderr}`).not.toContain("(pass)");
  expect(`${r.stderr}`).not.toMatch(/\bat .*\.ts:\d+/);
});

test("npm run test:unit needs nothing but npm install: with only node and npm on PATH, it passes", () => {
  // A PATH of node and npm alone, and node_modules/.bin (npm adds it; bun comes from there).
  // npm runs scripts with sh: named by its absolute path, as npm's own setting, not on PATH.
  const bin = mkdtempSync(join(tmpdir(), "pf-node-npm-"));
  try {
    for (const tool of ["node", "npm"]) symlinkSync(Bun.which(tool) as string, join(bin, tool));
    const r = Bun.spawnSync(["npm", "run", "test:unit"], {
      cwd: ROOT,
      env: { HOME: process.env.HOME ?? "/root", PATH: bin, npm_config_script_shell: "/bin/sh" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).not.toContain("test tool missing");
    expect(out).toMatch(/^ *0 fail$/m);
    expect(out).toMatch(/^ *[1-9]\d* pass$/m);
    expect(r.exitCode).toBe(0);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test("a fresh clone with nothing beside it, NIXPKGS_LIB and NIX_PATH unset: the NixOS tests stop with one line", () => {
  // A clone of this checkout's HEAD, alone in an empty directory: no ../shared beside it.
  // node_modules is linked inside it, as npm install would put it there.
  const empty = mkdtempSync(join(tmpdir(), "pf-clone-"));
  chmodSync(empty, 0o755); // mkdtemp's 0700 would hide the clone from the service user
  try {
    const clone = join(empty, "printerfacts");
    expect(Bun.spawnSync(["git", "clone", "-q", ROOT, clone], { stderr: "pipe" }).exitCode).toBe(0);
    symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name !== "NIXPKGS_LIB" && name !== "NIX_PATH"),
    );
    const r = Bun.spawnSync([BUN, "test", "test/systemd-nixos.test.ts"], {
      cwd: clone,
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode).toBe(1);
    const ours = `${r.stderr}`.split("\n").filter((line) => line.startsWith("nixpkgs lib"));
    expect(ours).toEqual([findNixpkgsLib({}).missing ?? ""]);
    expect(ours[0]).toStartWith("nixpkgs lib not found: NIXPKGS_LIB and NIX_PATH are unset; set NIXPKGS_LIB to ");
    expect(`${r.stderr}`).not.toContain("(pass)");
    expect(`${r.stderr}`).not.toContain("nix-instantiate failed");
    // A run without the NixOS test needs no nixpkgs lib.
    const other = Bun.spawnSync([BUN, "test", "test/unit/facts.test.ts"], { cwd: clone, env, stderr: "pipe" });
    expect(`${other.stderr}`).not.toContain("nixpkgs lib");
    expect(other.exitCode).toBe(0);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("a checkout the service user cannot read (in a 0700 directory): bun test exits 1 with one line saying so", () => {
  const hidden = mkdtempSync(join(tmpdir(), "pf-hidden-")); // 0700, root's
  try {
    const clone = join(hidden, "printerfacts");
    expect(Bun.spawnSync(["git", "clone", "-q", ROOT, clone], { stderr: "pipe" }).exitCode).toBe(0);
    symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
    const r = Bun.spawnSync([BUN, "test", "test/unit/facts.test.ts"], { cwd: clone, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    expect(`${r.stderr}`.split("\n").filter((line) => line.startsWith("the tests run the service"))).toEqual([
      `the tests run the service as uid 65534 (nobody), which cannot read ${clone}: clone it where every user may read it (not under a 0700 home such as /root)`,
    ]);
    expect(`${r.stderr}`).not.toContain("(pass)");
  } finally {
    rmSync(hidden, { recursive: true, force: true });
  }
});

test("NIXPKGS_LIB that is not nixpkgs' lib: one line naming it", () => {
  expect(findNixpkgsLib({ NIXPKGS_LIB: ROOT }).missing).toStartWith(
    `nixpkgs lib not found: NIXPKGS_LIB=${ROOT} has no default.nix; set NIXPKGS_LIB to `,
  );
});

// A tool the suite needs but the machine lacks stops `bun test` before any test, with one line
// naming the tool and its Debian package (test/setup.ts), rather than failing deep in a helper.
// The unit layer needs none of them: `npm run test:unit` runs without that check.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

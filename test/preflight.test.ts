// A tool the suite needs but the machine lacks stops `bun test` before any test, with one line
// naming the tool and its Debian package (test/setup.ts), rather than failing deep in a helper.
import { expect, test } from "bun:test";
import { dirname } from "node:path";
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

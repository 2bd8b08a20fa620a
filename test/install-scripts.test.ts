// package.json's allowScripts decides every dependency's install script: bun's runs (without it
// `bun` only prints "Bun's postinstall script was not run"), deno's is denied (the binary comes
// from its platform package). npm 11 warns about scripts allowScripts leaves open and a later npm
// blocks them; --strict-allow-scripts makes an undecided one an error, as enforcement will.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

const run = (argv: string[]) =>
  Bun.spawnSync(argv, { cwd: dir.path, stdout: "pipe", stderr: "pipe", env: { ...process.env, CI: "true" } });

test("npm ci with --strict-allow-scripts installs cleanly, and both bun and deno run", () => {
  for (const file of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, file), join(dir.path, file));
  // From npm's cache where it can (the run's own npm ci filled it); the registry otherwise.
  const ci = run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--strict-allow-scripts"]);
  const output = `${ci.stdout}${ci.stderr}`;
  expect(ci.exitCode, output).toBe(0);
  expect(output).not.toContain("allowScripts");
  expect(output).not.toMatch(/npm warn/i);

  const bun = run([join(dir.path, "node_modules/.bin/bun"), "--version"]);
  expect(`${bun.stdout}${bun.stderr}`).toMatch(/^\d+\.\d+\.\d+\n$/);
  expect(bun.exitCode).toBe(0);
  const deno = run([join(dir.path, "node_modules/.bin/deno"), "--version"]);
  expect(`${deno.stdout}`).toMatch(/^deno \d+\.\d+\.\d+/);
  expect(deno.exitCode).toBe(0);
}, 120_000);

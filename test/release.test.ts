// npm run release: the binaries people copy to servers. Built once for this file; each is then
// run for real on its own CPU: x64 natively, x64-baseline on an emulated CPU without AVX/AVX2
// and arm64 under qemu-user (Debian qemu-user-static, with libc6:arm64 for its loader).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { openSync, readdirSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { curl, ROOT, startListening, tempDir } from "./helpers/server.ts";

const OUT = join(ROOT, "dist/release");
const name = (target: string) => `printerfacts-${pkg.version}-${target}`;
const dir = tempDir();
afterAll(() => dir.cleanup());

beforeAll(() => {
  const r = spawnSync("npm", ["run", "release"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`npm run release failed:\n${r.stdout}\n${r.stderr}`);
}, 120_000);

/** The ELF header's e_machine: 0x3e is x86-64, 0xb7 is AArch64. */
function elfMachine(path: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(path, "r");
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  return header.readUInt16LE(18);
}

test("dist/release holds the three binaries, named with version and target, and SHA256SUMS that checks", () => {
  expect(readdirSync(OUT).sort()).toEqual([
    "SHA256SUMS",
    name("linux-arm64"),
    name("linux-x64"),
    name("linux-x64-baseline"),
  ]);
  const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: OUT, encoding: "utf8" });
  expect(check.stdout).toBe(["linux-x64", "linux-x64-baseline", "linux-arm64"].map((t) => `${name(t)}: OK\n`).join(""));
  expect(check.status).toBe(0);
  expect(elfMachine(join(OUT, name("linux-x64")))).toBe(0x3e);
  expect(elfMachine(join(OUT, name("linux-x64-baseline")))).toBe(0x3e);
  expect(elfMachine(join(OUT, name("linux-arm64")))).toBe(0xb7);
});

describe.each([
  ["linux-x64", []],
  ["linux-x64-baseline", ["qemu-x86_64-static", "-cpu", "Nehalem"]],
  ["linux-arm64", ["qemu-aarch64-static"]],
] as const)("%s", (target, runner) => {
  test(`serves /fact on a Unix socket${runner.length ? ` under ${runner.join(" ")}` : " natively"}, and stops cleanly`, async () => {
    const sock = join(dir.path, `${target}.sock`);
    const proc = await startListening([...runner, join(OUT, name(target))], { SOCKPATH: sock });
    const r = await curl("http://x/fact", { socket: sock });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^.+\n$/);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 30_000);
});

// npm run release: the binaries people copy to servers and their SBOM. Built once for this file;
// each binary is then run for real on its own CPU: x64 natively, x64-baseline on an emulated CPU
// without AVX/AVX2 and arm64 under qemu-user (Debian qemu-user-static, with libc6:arm64 for its
// loader). The SBOM is checked against the CycloneDX schema and against what bun build bundles.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { openSync, readdirSync, readFileSync, readSync, closeSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { bundledPackageDirs, validateSbom } from "../scripts/sbom.ts";
import { curl, LISTENING, ROOT, startService, tempDir, waitForLog } from "./helpers/server.ts";

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

const SBOM = `printerfacts-${pkg.version}.cdx.json`;

test("dist/release holds the three binaries, named with version and target, the SBOM, and SHA256SUMS of them all that checks", () => {
  expect(readdirSync(OUT).sort()).toEqual([
    "SHA256SUMS",
    name("linux-arm64"),
    name("linux-x64"),
    name("linux-x64-baseline"),
    SBOM,
  ]);
  const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], { cwd: OUT, encoding: "utf8" });
  expect(check.stdout).toBe(
    [...["linux-x64", "linux-x64-baseline", "linux-arm64"].map(name), SBOM].map((f) => `${f}: OK\n`).join(""),
  );
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
    const proc = startService([...runner, join(OUT, name(target))], { SOCKPATH: sock });
    // Under qemu the start is emulated: seconds, more on a busy machine, where 10 s ran out once.
    await waitForLog(proc, LISTENING, 25_000);
    const r = await curl("http://x/fact", { socket: sock });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^.+\n$/);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }, 30_000);
});

describe("the SBOM", () => {
  interface Component {
    type: string;
    name: string;
    group?: string;
    version: string;
    purl?: string;
    licenses?: { license?: { id?: string }; expression?: string }[];
  }
  const read = () => JSON.parse(readFileSync(join(OUT, SBOM), "utf8"));
  const fullName = (c: Component) => (c.group ? `${c.group}/${c.name}` : c.name);

  test("is valid CycloneDX 1.6, by the CycloneDX library's own schema validator", async () => {
    const text = readFileSync(join(OUT, SBOM), "utf8");
    expect(await validateSbom(text)).toBeNull();
    // The validator can fail: a component without its name is refused.
    const broken = read();
    delete broken.components[0].name;
    expect(await validateSbom(JSON.stringify(broken))).not.toBeNull();
  });

  test("lists exactly the npm packages bun build bundles, with their versions and licences, and the Bun runtime", () => {
    // What goes into the binary, asked of bun build itself, for each target.
    const bundled = new Set<string>();
    for (const target of ["linux-x64", "linux-arm64"]) {
      const meta = join(dir.path, `meta-${target}.json`);
      const r = spawnSync(
        process.execPath,
        [
          "build",
          "src/main.ts",
          "--compile",
          `--target=bun-${target}`,
          `--metafile=${meta}`,
          "--outfile",
          join(dir.path, `bundle-${target}`),
        ],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(r.status).toBe(0);
      for (const d of bundledPackageDirs(JSON.parse(readFileSync(meta, "utf8")), ROOT))
        bundled.add(d.slice(d.lastIndexOf("node_modules/") + "node_modules/".length));
    }
    expect(bundled.size).toBeGreaterThan(0);

    const bom = read();
    expect(bom.metadata.component).toMatchObject({ type: "application", name: "printerfacts", version: pkg.version });
    const components: Component[] = bom.components;
    const libraries = components.filter((c) => c.type === "library");
    expect(libraries.map(fullName).sort()).toEqual([...bundled].sort());
    for (const c of libraries) {
      const own = JSON.parse(readFileSync(join(ROOT, "node_modules", fullName(c), "package.json"), "utf8"));
      expect(c.version).toBe(own.version);
      expect(c.licenses?.[0]?.license?.id ?? c.licenses?.[0]?.expression).toBe(own.license);
      expect(c.purl).toBe(`pkg:npm/${fullName(c).replace("@", "%40")}@${own.version}`);
      // Only what the service itself depends on; nothing the tests or benchmarks use.
      expect(Object.keys(pkg.dependencies)).toContain(fullName(c));
    }
    for (const dev of Object.keys(pkg.devDependencies)) expect(libraries.map(fullName)).not.toContain(dev);
    // The runtime embedded in every binary: the Bun that built them.
    const platforms = components.filter((c) => c.type === "platform");
    expect(platforms).toHaveLength(1);
    expect(platforms[0]).toMatchObject({ name: "bun", version: Bun.version, purl: `pkg:npm/bun@${Bun.version}` });
    expect(platforms[0].licenses?.[0]?.license?.id).toBe("MIT");
    expect(components).toHaveLength(libraries.length + 1);
  });

  test("its packages are the ones each binary's embedded source map names, and no other package of package.json is", () => {
    const listed = (read().components as Component[]).filter((c) => c.type === "library").map(fullName);
    const others = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter(
      (n) => !listed.includes(n),
    );
    expect(others).toContain("@hono/node-server"); // the Node adapter's: not in the Bun binary
    for (const target of ["linux-x64", "linux-x64-baseline", "linux-arm64"]) {
      const binary = readFileSync(join(OUT, name(target)));
      for (const n of listed) expect(binary.includes(`node_modules/${n}/`), `${n} in ${target}`).toBe(true);
      for (const n of others) expect(binary.includes(`node_modules/${n}/`), `${n} in ${target}`).toBe(false);
    }
  });

  test("is reproducible: its timestamp is the commit's (or SOURCE_DATE_EPOCH) and its serial number comes from the binaries' sums", () => {
    const bom = read();
    const commit = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    expect(Date.parse(bom.metadata.timestamp)).toBe(Number(commit) * 1000);
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

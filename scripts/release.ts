// npm run release: the self-contained binaries people copy to servers, one per Linux target,
// named printerfacts-VERSION-linux-TARGET, plus SHA256SUMS (check with `sha256sum -c SHA256SUMS`).
// Bun cross-compiles: for a target other than the host it fetches that target's Bun from the npm
// registry (@oven/bun-linux-*) once and caches it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");
const OUT = join(ROOT, "dist/release");

/**
 * Bun's --target names. x64-baseline is for x86-64 CPUs without AVX2 (Nehalem and later); since
 * Bun 1.4 the x64 runtime is itself baseline with run-time dispatch, so the two are alike, but
 * the name stays for those who look for it, and the test runs it on an emulated Nehalem.
 */
export const TARGETS = ["linux-x64", "linux-x64-baseline", "linux-arm64"] as const;

/**
 * `npm run build`'s own flags, read from package.json so that a release is always built as
 * dist/printerfacts is: what lies between the entry and --outfile.
 */
const COMPILE_FLAGS = (() => {
  const words = pkg.scripts.build.split(/\s+/);
  const from = words.indexOf("src/main.ts");
  const to = words.indexOf("--outfile");
  if (from < 0 || to < from)
    throw new Error(`cannot find the flags in package.json's build script: ${pkg.scripts.build}`);
  return words.slice(from + 1, to);
})();

export const releaseName = (target: string) => `printerfacts-${pkg.version}-${target}`;

function build(target: string): string {
  const outfile = join(OUT, releaseName(target));
  const r = Bun.spawnSync(
    [
      process.execPath,
      "build",
      join(ROOT, "src/main.ts"),
      ...COMPILE_FLAGS,
      `--target=bun-${target}`,
      "--outfile",
      outfile,
    ],
    {
      stdout: "inherit",
      stderr: "inherit",
    },
  );
  if (r.exitCode !== 0) throw new Error(`bun build --target=bun-${target} failed with exit code ${r.exitCode}`);
  // The source map is embedded in the binary (stack traces name src/ lines); the copy bun
  // writes beside it is not part of the release.
  rmSync(`${outfile}.map`, { force: true });
  return outfile;
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const sums = TARGETS.map((target) => {
  const file = build(target);
  const hash = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
  return `${hash}  ${releaseName(target)}\n`;
});
writeFileSync(join(OUT, "SHA256SUMS"), sums.join(""));
console.log(`wrote ${TARGETS.length} binaries and SHA256SUMS to ${OUT}`);

// npm run release: the self-contained binaries people copy to servers, one per Linux target,
// named printerfacts-VERSION-linux-TARGET, their CycloneDX SBOM (printerfacts-VERSION.cdx.json,
// scripts/sbom.ts) and SHA256SUMS of them all (check with `sha256sum -c SHA256SUMS`). Two builds
// of one commit are byte for byte the same (test/reproducible.test.ts; docs/runtimes.md).
// Bun cross-compiles: for a target other than the host it fetches that target's Bun from the npm
// registry (@oven/bun-linux-*) once and caches it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { bundledPackageDirs, makeSbom } from "./sbom.ts";

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
export const SBOM_NAME = `printerfacts-${pkg.version}.cdx.json`;

/** bun build's metafiles (which inputs went into the bundle) go here, not into the release. */
const META = mkdtempSync(join(tmpdir(), "printerfacts-release-"));

function build(target: string): string {
  const outfile = join(OUT, releaseName(target));
  const r = Bun.spawnSync(
    [
      process.execPath,
      "build",
      join(ROOT, "src/main.ts"),
      ...COMPILE_FLAGS,
      `--target=bun-${target}`,
      `--metafile=${join(META, `${target}.json`)}`,
      "--outfile",
      outfile,
    ],
    {
      cwd: ROOT,
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

/** The packages bundled for one target (the same code for each: any difference is a bug). */
function bundled(target: string): string[] {
  return bundledPackageDirs(JSON.parse(readFileSync(join(META, `${target}.json`), "utf8")), ROOT);
}

/** One line on stderr, exit 1: a setting to fix, not a bug to trace. */
function fail(message: string): never {
  console.error(`npm run release: ${message}`);
  process.exit(1);
}

/** SOURCE_DATE_EPOCH if set, else the commit's time: the SBOM's timestamp, the same for every build of it. */
function sourceDateEpoch(): number {
  const given = process.env.SOURCE_DATE_EPOCH;
  if (given !== undefined) {
    if (!/^\d+$/.test(given)) fail(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not ${JSON.stringify(given)}`);
    return Number(given);
  }
  const git = Bun.spawnSync(["git", "log", "-1", "--format=%ct"], { cwd: ROOT, stderr: "inherit" });
  const epoch = git.stdout.toString().trim();
  if (git.exitCode !== 0 || !/^\d+$/.test(epoch))
    fail("not a git checkout: set SOURCE_DATE_EPOCH (seconds since 1970) for the SBOM's timestamp");
  return Number(epoch);
}

const sha256 = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

const epoch = sourceDateEpoch();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const sums = TARGETS.map((target) => `${sha256(build(target))}  ${releaseName(target)}\n`).join("");
const packages = bundled(TARGETS[0]);
for (const target of TARGETS.slice(1)) {
  if (bundled(target).join() !== packages.join())
    throw new Error(`the bundle for ${target} has other packages than for ${TARGETS[0]}`);
}
rmSync(META, { recursive: true, force: true });
writeFileSync(
  join(OUT, SBOM_NAME),
  makeSbom({
    project: join(ROOT, "package.json"),
    packages,
    bun: { packageJson: join(ROOT, "node_modules/bun/package.json"), version: Bun.version },
    sums,
    epoch,
  }),
);
writeFileSync(join(OUT, "SHA256SUMS"), `${sums}${sha256(join(OUT, SBOM_NAME))}  ${SBOM_NAME}\n`);
console.log(`wrote ${TARGETS.length} binaries, ${SBOM_NAME} and SHA256SUMS to ${OUT}`);

// Reproducible releases: two clean clones of this commit, in different directories, built with a
// different umask, time zone and locale, write the same bytes: the same SHA256SUMS, binaries and
// SBOM. One build is docs/runtimes.md's "Checking a release against your own build" run as written
// (git clone of the tag, npm ci, npm run release, sha256sum --check against the other's files).
// The other reuses this checkout's node_modules (a copy, so only one npm ci is paid for; npm ci
// installs exactly package-lock.json, which the recipe's own npm ci covers). What is built is the
// commit checked out (HEAD), without uncommitted changes; the tag exists only in a temporary clone.
// The recipe's npm ci needs the npm registry. Measured on 2 busy cores: ~10-17 s for the copied
// build, ~60 s for npm ci and the recipe's build.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { shows } from "./helpers/doc-steps.ts";
import { ROOT, tempDir } from "./helpers/server.ts";

const dir = tempDir();
// Two clones with their node_modules: removing them takes a while on a busy machine.
afterAll(() => dir.cleanup(), 180_000);

/** The recipe and the lines it shows, from docs/runtimes.md. */
function recipe(): { shell: string; expect: string[] } {
  const page = readFileSync(join(ROOT, "docs/runtimes.md"), "utf8");
  const section = page.slice(page.indexOf("\n### Checking a release against your own build\n"));
  const m = section.match(/^```sh\n([\s\S]*?)^```\n+```text\n([\s\S]*?)^```$/m);
  if (!m) throw new Error("docs/runtimes.md has no recipe for checking a release");
  return { shell: m[1], expect: m[2].trimEnd().split("\n") };
}

function sh(script: string, cwd: string, env: Record<string, string>) {
  const started = performance.now();
  const r = spawnSync("bash", ["-c", `set -eo pipefail\n${script}`], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${script}\n--- exit ${r.status}:\n${output}`);
  return { output, seconds: (performance.now() - started) / 1000 };
}

test("two clones in different directories, with another umask, TZ and locale, build the same release; the docs' check says so", () => {
  const commit = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const tag = `v${pkg.version}`;
  const repo = join(dir.path, "printerfacts.git");
  sh(`git clone --quiet --bare "$ROOT" "$REPO" && git -C "$REPO" tag "$TAG" "$COMMIT"`, dir.path, {
    ROOT,
    REPO: repo,
    TAG: tag,
    COMMIT: commit,
  });

  // The release: a clone deep in one directory, built with this checkout's node_modules copied in,
  // umask 0077, a UTC+12:45 time zone and the POSIX locale (ASCII; the other build's is C.UTF-8:
  // these are the locales every Debian has, without the locales package).
  const first = join(dir.path, "first/builds/of/printerfacts");
  mkdirSync(join(first, ".."), { recursive: true });
  const release = sh(
    [
      'git clone --quiet "$REPO" "$DIR" && cd "$DIR" && git checkout --quiet --detach "$COMMIT"',
      'cp -a "$ROOT/node_modules" node_modules',
      "umask 0077 && npm run release",
    ].join("\n"),
    dir.path,
    { ROOT, REPO: repo, DIR: first, COMMIT: commit, TZ: "Pacific/Chatham", LANG: "POSIX", LC_ALL: "POSIX" },
  );
  const downloads = join(first, "dist/release");

  // Anyone's check: the recipe as written, elsewhere, with npm ci and other settings.
  const elsewhere = join(dir.path, "x");
  mkdirSync(elsewhere);
  const { shell, expect: shown } = recipe();
  const check = sh(`umask 0022\n${shell}`, elsewhere, {
    TAG: tag,
    REPO: repo,
    DOWNLOADS: downloads,
    TZ: "UTC",
    LANG: "C.UTF-8",
  });
  expect(shows(check.output, shown), `the recipe printed:\n${check.output}\nthe page says:\n${shown.join("\n")}`).toBe(
    true,
  );
  const rebuilt = join(elsewhere, "printerfacts-rebuild/dist/release/SHA256SUMS");
  expect(readFileSync(rebuilt, "utf8")).toBe(readFileSync(join(downloads, "SHA256SUMS"), "utf8"));
  expect(readFileSync(rebuilt, "utf8").split("\n").filter(Boolean)).toHaveLength(4);
  console.log(
    `reproducible: the release with copied node_modules in ${release.seconds.toFixed(1)} s; the recipe (npm ci and release) in ${check.seconds.toFixed(1)} s`,
  );
}, 600_000);

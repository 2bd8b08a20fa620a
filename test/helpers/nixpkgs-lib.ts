// nixpkgs' lib, which test/systemd-nixos.test.ts evaluates the NixOS module with, found the way a
// Nix user has it: NIXPKGS_LIB (the lib directory itself), else <nixpkgs/lib> on NIX_PATH. Never
// a path guessed outside the repository: .ci/run sets NIXPKGS_LIB to the copy beside the checkout
// when there is one. test/setup.ts stops a run that includes that test with findNixpkgsLib()'s one
// line otherwise.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const HOW =
  "set NIXPKGS_LIB to nixpkgs' lib directory (NIXPKGS_LIB=/path/to/nixpkgs/lib, a checkout of nixpkgs or of github.com/nix-community/nixpkgs.lib) or put nixpkgs on NIX_PATH (NIX_PATH=nixpkgs=/path/to/nixpkgs)";

/** The lib directory (holding default.nix), or the one line that says what to provide and how. */
export function findNixpkgsLib(env: Record<string, string | undefined> = process.env): {
  lib?: string;
  missing?: string;
} {
  const given = env.NIXPKGS_LIB;
  if (given) {
    const lib = resolve(given);
    if (existsSync(join(lib, "default.nix"))) return { lib };
    return { missing: `nixpkgs lib not found: NIXPKGS_LIB=${given} has no default.nix; ${HOW}` };
  }
  if (env.NIX_PATH) {
    // nix's own lookup of <nixpkgs/lib>, on NIX_PATH as given (nothing else of ours is passed).
    const r = spawnSync("nix-instantiate", ["--find-file", "nixpkgs/lib"], {
      encoding: "utf8",
      env: { PATH: env.PATH ?? "/usr/bin:/bin", NIX_PATH: env.NIX_PATH },
    });
    const lib = r.stdout.trim();
    if (r.status === 0 && existsSync(join(lib, "default.nix"))) return { lib };
    return { missing: `nixpkgs lib not found: NIX_PATH=${env.NIX_PATH} has no <nixpkgs/lib>; ${HOW}` };
  }
  return {
    missing: `nixpkgs lib not found: NIXPKGS_LIB and NIX_PATH are unset; ${HOW}; the NixOS module's test evaluates with it and does not skip`,
  };
}

/** bun test's options that take their value as the next argument. */
const VALUE_OPTIONS = new Set([
  "--timeout",
  "--rerun-each",
  "--retry",
  "--seed",
  "--coverage-reporter",
  "--coverage-dir",
  "-t",
  "--test-name-pattern",
  "--reporter",
  "--reporter-outfile",
  "--max-concurrency",
  "--path-ignore-patterns",
  "--shard",
  "--timings",
  "--parallel-delay",
  "--preload",
  "-r",
  "--config",
  "-c",
  "--tsconfig-override",
  "--env-file",
  "--cwd",
]);

/**
 * Whether this `bun test` run loads the NixOS module's test, from its command line: with no path
 * filter, or with one that its path contains. A run of other files then needs no nixpkgs lib.
 */
export function runsNixosTest(argv: string[] = readFileSync("/proc/self/cmdline", "utf8").split("\0")): boolean {
  const file = resolve(import.meta.dir, "../systemd-nixos.test.ts");
  const filters: string[] = [];
  const args = argv.slice(argv.indexOf("test") + 1).filter(Boolean);
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith("-")) filters.push(args[i]);
    else if (VALUE_OPTIONS.has(args[i])) i++;
  }
  return (
    filters.length === 0 || filters.some((f) => file.includes(f.replace(/^\.\//, "")) || file.includes(resolve(f)))
  );
}

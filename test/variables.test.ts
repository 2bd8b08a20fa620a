// One variable table (src/config.ts VARIABLES): --help, docs/configuration.md and scripts/deno-run's
// --allow-env all name exactly its variables, with its defaults. (tsc checks the table against the
// validation rules themselves: TABLE_MATCHES_RULES.)
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_VARS, VARIABLES, type Variable } from "../src/config.ts";
import { BINARY, ROOT, start } from "./helpers/server.ts";

/** The table docs/configuration.md must contain, row for row. */
function configurationTable(): string {
  const rows = ENV_VARS.map((name) => {
    const v: Variable = VARIABLES[name];
    return `| \`${name}\` | ${v.default === undefined ? "unset" : `\`${v.default}\``} | ${v.listener} | ${v.about.replaceAll("|", "\\|")} |`;
  });
  return ["| variable | default | listener | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

test("docs/configuration.md carries the table, generated from VARIABLES (paste the expected one on failure)", () => {
  const doc = readFileSync(join(ROOT, "docs/configuration.md"), "utf8");
  expect(doc).toContain(configurationTable());
});

test("--help of the real binary lists every variable with its default", async () => {
  const proc = start([BINARY, "--help"]);
  expect(await proc.exited).toBe(0);
  const listed = proc
    .stdout()
    .match(/^ {2}[A-Z_]+(?= )/gm)
    ?.map((s) => s.trim());
  expect(listed).toEqual(ENV_VARS);
  for (const name of ENV_VARS) {
    const v: Variable = VARIABLES[name];
    if (v.default !== undefined)
      expect(proc.stdout()).toMatch(new RegExp(`^  ${name} .*\\(default ${v.default.replace(/[.]/g, "\\.")}\\)$`, "m"));
  }
});

test("scripts/deno-run lets Deno read exactly the table's variables (and NODE_V8_COVERAGE, for getent)", () => {
  const script = readFileSync(join(ROOT, "scripts/deno-run"), "utf8");
  const allowed = script.match(/--allow-env=(\S+)/)?.[1].split(",") ?? [];
  expect([...allowed].sort()).toEqual([...ENV_VARS, "NODE_V8_COVERAGE"].sort());
});

test("scripts/deno-run falls back to the table's defaults where it grants an address", () => {
  const script = readFileSync(join(ROOT, "scripts/deno-run"), "utf8");
  const fallbacks = Object.fromEntries([...script.matchAll(/\$\{([A-Z_]+):-([^}]+)\}/g)].map((m) => [m[1], m[2]]));
  expect(fallbacks).toEqual({
    HOST: VARIABLES.HOST.default,
    PORT: VARIABLES.PORT.default,
    METRICS_HOST: VARIABLES.METRICS_HOST.default,
  });
});

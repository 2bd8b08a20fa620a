// Writes what is generated from src/config.ts's VARIABLES: docs/configuration.md's table and
// scripts/deno-run's --allow-env list. Run it (`npm run generate`) after changing the table;
// test/variables.test.ts fails until you do.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_VARS, VARIABLES, type Variable } from "../src/config.ts";

const ROOT = join(import.meta.dir, "..");

/** Replaces what `pattern` matches in `file` (one match) with `replacement`. */
function rewrite(file: string, pattern: RegExp, replacement: string) {
  const path = join(ROOT, file);
  const text = readFileSync(path, "utf8");
  if (!pattern.test(text)) throw new Error(`${file}: found nothing to replace (${pattern})`);
  const next = text.replace(pattern, () => replacement);
  if (next !== text) writeFileSync(path, next);
  console.log(`${file}: ${next === text ? "unchanged" : "written"}`);
}

const rows = ENV_VARS.map((name) => {
  const variable: Variable = VARIABLES[name];
  const value = variable.default === undefined ? "unset" : `\`${variable.default}\``;
  return `| \`${name}\` | ${value} | ${variable.listener} | ${variable.about.replaceAll("|", "\\|")} |`;
});
const table = ["| variable | default | listener | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
rewrite("docs/configuration.md", /^\| variable \| default \|.*\n(?:\|.*\n)*/m, `${table}\n`);

// NODE_V8_COVERAGE: Deno's node:child_process reads it when socket.ts runs getent.
rewrite("scripts/deno-run", /--allow-env=\S+/, `--allow-env=${[...ENV_VARS, "NODE_V8_COVERAGE"].join(",")}`);

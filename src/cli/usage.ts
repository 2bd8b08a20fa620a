// --help. The variables come from config.ts's table, so a new one is listed without a second edit.
import pkg from "../../package.json" with { type: "json" };
import { ENV_VARS, VARIABLES, type Variable } from "../config.ts";

export function usage(): string {
  const variables = ENV_VARS.map((name) => {
    const variable: Variable = VARIABLES[name];
    const suffix = variable.default === undefined ? "" : ` (default ${variable.default})`;
    return `  ${name.padEnd(19)}${variable.about}${suffix}`;
  });
  return `printerfacts ${pkg.version}: random printer facts over HTTP

Usage: printerfacts [--help | --version]
       printerfacts check [USER]   can USER (default: nginx's worker user) connect to SOCKPATH,
                                   and does /healthz answer? Exit 0 yes; see docs/check.md

Configured by environment variables:
${variables.join("\n")}
SOCKPATH and PORT are exclusive: set one. Without METRICS_*, /metrics is on the main listener.

Routes: GET /fact, /facts/{id}, /, /healthz, /metrics`;
}

// The program: what `bun src/main.ts`, the builds and scripts/deno-run run. Everything else is
// src/cli/main.ts, which runs nothing when imported.
import { main } from "./cli/main.ts";

await main(process.argv.slice(2));

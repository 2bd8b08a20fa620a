// Preloaded by bun test (bunfig.toml): first every tool the tests drive must be installed (one
// line naming the missing one and its package, exit 1, before any test); whatever the tests
// leave running, the run ends with.
import { afterAll } from "bun:test";
import { killLeftovers } from "./helpers/server.ts";
import { missingTool } from "./helpers/tools.ts";

const missing = missingTool();
if (missing !== undefined) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}

afterAll(killLeftovers);

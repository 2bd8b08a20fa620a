// Preloaded by bun test (bunfig.toml): first every tool the tests drive must be installed, the
// checkout readable by the user the tests run the service as, and nixpkgs' lib found if the NixOS
// module's test is in the run (one line naming what is missing and how to provide it, exit 1,
// before any test); whatever the tests leave running, the run ends with. `npm run test:unit` does not load it (test/unit/bunfig.toml): the unit layer needs no
// tools and starts no servers.
import { afterAll } from "bun:test";
import { checkoutUnreachable, killLeftovers, removeServiceCache } from "./helpers/server.ts";
import { killSystemdHosts } from "./helpers/systemd-host.ts";
import { findNixpkgsLib, runsNixosTest } from "./helpers/nixpkgs-lib.ts";
import { missingTool } from "./helpers/tools.ts";

const missing = missingTool() ?? checkoutUnreachable() ?? (runsNixosTest() ? findNixpkgsLib().missing : undefined);
if (missing !== undefined) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}

afterAll(killLeftovers);
afterAll(killSystemdHosts);
afterAll(removeServiceCache);

// Preloaded by bun test (bunfig.toml): whatever the tests leave, the run ends with.
import { afterAll } from "bun:test";
import { killLeftovers } from "./helpers/server.ts";
import { killSystemdHosts } from "./helpers/systemd-host.ts";

afterAll(killLeftovers);
afterAll(killSystemdHosts);

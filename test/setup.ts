// Preloaded by bun test (bunfig.toml): whatever the tests leave, the run ends with.
import { afterAll } from "bun:test";
import { killLeftovers } from "./helpers/server.ts";

afterAll(killLeftovers);

// Asserting on configuration errors.
import { expect } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

/** The ConfigError message loadConfig gives for `env`; fails the test if it gives none. */
export function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

// Picks the adapter for the runtime we are on. Bun and Deno both also report
// process.versions.node, so they are checked first. The only runtime check in the program.
import type { Adapter } from "./types.ts";

export type { Adapter, Listener } from "./types.ts";

export async function loadAdapter(): Promise<Adapter> {
  if (typeof globalThis.Bun !== "undefined") return (await import("./bun.ts")).bunAdapter;
  throw new Error(`unsupported runtime: printerfacts runs on Bun (node ${process.versions.node})`);
}

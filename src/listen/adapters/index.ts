// The adapter for the runtime we are on, picked by module resolution rather than at run time:
// package.json's "imports" maps #runtime-adapter to adapters/bun.ts under the "bun" condition,
// to adapters/deno.ts under "deno" and to adapters/node.ts otherwise (as srvx picks its
// adapters); each exports its adapter as its default, and nothing else by that name. So each
// build holds only its own runtime's adapter: the compiled Bun binary carries no node:http or
// @hono/node-server, which Bun would load at start even behind a dynamic import that never runs.
import runtimeAdapter from "#runtime-adapter";
import type { Adapter } from "../../types.ts";

export const adapter: Adapter = runtimeAdapter;

declare const Deno: { version: { deno: string } } | undefined;

/** For --version: the runtime and its version, e.g. "node 20.20.2". */
export function runtimeName(): string {
  if (adapter.runtime === "bun") return `bun ${Bun.version}`;
  if (adapter.runtime === "deno") return `deno ${Deno?.version.deno}`;
  return `node ${process.versions.node}`;
}

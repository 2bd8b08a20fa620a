// Picks the adapter for the runtime we are on. Bun and Deno both also report
// process.versions.node, so they are checked first. The only runtime checks in the program.
import type { Adapter } from "./types.ts";

export type { Adapter, Listener } from "./types.ts";

declare const Deno: { version: { deno: string } } | undefined;

type Runtime = Adapter["runtime"];

function detect(): Runtime {
  if (typeof globalThis.Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return "node";
}

/** For --version: the runtime and its version, e.g. "node 20.20.2". */
export function runtimeName(): string {
  const runtime = detect();
  if (runtime === "bun") return `bun ${Bun.version}`;
  if (runtime === "deno") return `deno ${Deno?.version.deno}`;
  return `node ${process.versions.node}`;
}

export async function loadAdapter(): Promise<Adapter> {
  switch (detect()) {
    case "bun":
      return (await import("./bun.ts")).bunAdapter;
    case "deno":
      return (await import("./deno.ts")).denoAdapter;
    case "node":
      return (await import("./node.ts")).nodeAdapter;
  }
}

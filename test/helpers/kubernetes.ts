// The shipped Kubernetes manifests (deploy/kubernetes/*.yaml), parsed, for the tests that check
// them against the schemas and run their pod's containers with podman.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./server.ts";

export const MANIFESTS = join(ROOT, "deploy/kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked against the schemas by the tests
export type Doc = any;

export function manifests(): { file: string; doc: Doc }[] {
  return readdirSync(MANIFESTS)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) => {
      const parsed = Bun.YAML.parse(readFileSync(join(MANIFESTS, file), "utf8"));
      return (Array.isArray(parsed) ? parsed : [parsed]).map((doc) => ({ file, doc }));
    });
}

export function find(kind: string): Doc {
  const found = manifests().filter(({ doc }) => doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in deploy/kubernetes, found ${found.length}`);
  return found[0].doc;
}

/** A field the tests rely on; a missing one fails loudly instead of running with undefined. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === null) throw new Error(`deploy/kubernetes: ${what} is not set`);
  return value;
}

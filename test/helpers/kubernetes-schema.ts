// Kubernetes manifests checked against the API's schemas (kubernetes-models: types, required
// fields, formats, enums), and strictly: the schemas allow fields they do not define, which the
// API server drops or refuses, so a misspelt field would pass. The validator reads every field
// its schema defines, so a field it never read is not in the schema.
import type { Model } from "@kubernetes-models/base";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";

type ModelClass = { new (data: never): Model<unknown>; apiVersion: string; kind: string };
const MODELS: ModelClass[] = [ConfigMap, Service, Deployment] as unknown as ModelClass[];

/** Throws on a schema error; returns the paths of fields the schema does not know. */
export function validateManifest(doc: { apiVersion?: string; kind?: string }): string[] {
  const Kind = MODELS.find((m) => m.apiVersion === doc.apiVersion && m.kind === doc.kind);
  if (!Kind) throw new Error(`no schema here for ${doc.apiVersion} ${doc.kind}`);
  const model = new Kind(doc as never);
  // Which keys of each object the validator read; "all" where it listed them (a map's keys).
  const read = new Map<object, Set<PropertyKey> | "all">();
  const watch = (value: object): object => {
    const seen = new Set<PropertyKey>();
    read.set(value, seen);
    const proxies = new Map<PropertyKey, object>();
    return new Proxy(value, {
      get(target, key) {
        seen.add(key);
        const child: unknown = Reflect.get(target, key);
        if (child === null || typeof child !== "object") return child;
        if (!proxies.has(key)) proxies.set(key, watch(child));
        return proxies.get(key);
      },
      ownKeys(target) {
        read.set(target, "all");
        return Reflect.ownKeys(target);
      },
    });
  };
  Kind.prototype.validate.call(watch(model));
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== "object") return;
    const seen = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      if (seen !== "all" && !seen?.has(key)) unknown.push(`${path}/${key}`);
      else walk(child, `${path}/${key}`);
    }
  };
  walk(model, "");
  return unknown;
}

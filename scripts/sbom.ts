// The release's CycloneDX SBOM, made with the CycloneDX project's own library: the npm packages
// bun build bundled into the binaries (read from its metafile's inputs, never listed by hand),
// each with its version and licence from its package.json, and the Bun runtime every binary
// embeds. Reproducible: the timestamp is SOURCE_DATE_EPOCH (else the commit's time) and the
// serial number a name-based UUID of the release's files, so the same commit writes the same bytes.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { PackageURL } from "packageurl-js";
import spdxExpressionParse from "spdx-expression-parse";

export const SPEC = CDX.Spec.Spec1dot6;

interface Metafile {
  inputs: Record<string, unknown>;
}

/** The directories of the npm packages whose files are among the bundle's inputs, sorted. */
export function bundledPackageDirs(metafile: Metafile, cwd: string): string[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const path = isAbsolute(input) ? input : join(cwd, input);
    const at = path.lastIndexOf("/node_modules/");
    if (at < 0) continue;
    const rest = path.slice(at + "/node_modules/".length).split("/");
    const name = rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
    dirs.add(path.slice(0, at + "/node_modules/".length) + name);
  }
  return [...dirs].sort();
}

/** RFC 9562's name-based UUID (version 5, SHA-1) of `name` in the URL namespace. */
export function uuid5(name: string): string {
  const namespace = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex");
  const hash = createHash("sha1").update(namespace).update(name).digest().subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

export interface SbomInput {
  /** The project's package.json (the SBOM's subject). */
  project: string;
  /** Directories of the bundled npm packages (bundledPackageDirs). */
  packages: string[];
  /** The package.json of the Bun the binaries embed, and the version that built them. */
  bun: { packageJson: string; version: string };
  /** The release's SHA256SUMS lines for the binaries: the serial number is made from them. */
  sums: string;
  /** Seconds since the epoch for metadata.timestamp. */
  epoch: number;
}

/** The SBOM as CycloneDX 1.6 JSON text. */
export function makeSbom(input: SbomInput): string {
  const licenses = new CDX.Contrib.License.Factories.LicenseFactory(spdxExpressionParse);
  const builder = new CDX.Contrib.FromNodePackageJson.Builders.ComponentBuilder(
    new CDX.Contrib.FromNodePackageJson.Factories.ExternalReferenceFactory(),
    licenses,
  );
  /** A component from a package.json; with the npm package URL unless it is not on npm (ours is private). */
  const component = (packageJson: Record<string, unknown>, type: CDX.Enums.ComponentType) => {
    const made = builder.makeComponent(packageJson, type);
    if (made === undefined) throw new Error(`cannot make a component of ${packageJson.name}`);
    if (packageJson.private === true) {
      made.bomRef.value = `${made.name}@${made.version}`;
      return made;
    }
    made.purl = new PackageURL("npm", made.group, made.name, made.version, undefined, undefined).toString();
    made.bomRef.value = made.purl;
    return made;
  };

  const project = readJson(input.project);
  const bom = new CDX.Models.Bom({
    serialNumber: `urn:uuid:${uuid5(`${project.name}@${project.version}\n${input.sums}`)}`,
  });
  const subject = component(project, CDX.Enums.ComponentType.Application);
  bom.metadata.component = subject;
  bom.metadata.timestamp = new Date(input.epoch * 1000);
  const library = readJson(join(import.meta.dir, "../node_modules/@cyclonedx/cyclonedx-library/package.json"));
  bom.metadata.tools.components.add(component(library, CDX.Enums.ComponentType.Library));

  for (const dir of input.packages) {
    const made = component(readJson(join(dir, "package.json")), CDX.Enums.ComponentType.Library);
    bom.components.add(made);
    subject.dependencies.add(made.bomRef);
  }
  const bunJson = readJson(input.bun.packageJson);
  if (bunJson.version !== input.bun.version)
    throw new Error(`node_modules/bun is ${bunJson.version} but the binaries were built by Bun ${input.bun.version}`);
  // The runtime itself: a platform (CycloneDX's type for a runtime that executes the software).
  const bun = component(bunJson, CDX.Enums.ComponentType.Platform);
  bom.components.add(bun);
  subject.dependencies.add(bun.bomRef);

  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(SPEC));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

/** The schema check, with the library's own validator and schemas (ajv). null when valid. */
export async function validateSbom(text: string): Promise<unknown> {
  return new CDX.Validation.JsonStrictValidator(SPEC.version).validate(text);
}

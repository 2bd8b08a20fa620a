// scripts/sbom.ts in process: which packages a bun build metafile names, the serial number, and
// that the same release gives the same SBOM, byte for byte.
import { expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { bundledPackageDirs, makeSbom, uuid5, validateSbom } from "../../scripts/sbom.ts";

const ROOT = resolve(import.meta.dir, "../..");

test("a package per node_modules directory the bundle's inputs come from: scoped, nested, relative or absolute", () => {
  const metafile = {
    inputs: {
      "src/main.ts": {},
      "node_modules/hono/dist/hono.js": {},
      "node_modules/hono/dist/context.js": {},
      "node_modules/@scope/pkg/index.js": {},
      "node_modules/a/node_modules/b/lib/x.js": {},
      "/abs/node_modules/c/index.js": {},
    },
  };
  expect(bundledPackageDirs(metafile, "/w")).toEqual([
    "/abs/node_modules/c",
    "/w/node_modules/@scope/pkg",
    "/w/node_modules/a/node_modules/b",
    "/w/node_modules/hono",
  ]);
});

test("the serial number is RFC 9562's name-based UUID (version 5) in the URL namespace", () => {
  // Python's uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/").
  expect(uuid5("http://python.org/")).toBe("4c565f0d-3f5a-5890-b41b-20cf47701c5e");
});

test("the same release gives the same bytes; the sums give the serial number, the epoch the timestamp", async () => {
  const input = {
    project: join(ROOT, "package.json"),
    packages: [join(ROOT, "node_modules/hono"), join(ROOT, "node_modules/valibot")],
    bun: { packageJson: join(ROOT, "node_modules/bun/package.json"), version: Bun.version },
    sums: "00  printerfacts-1.0.0-linux-x64\n",
    epoch: 1_700_000_000,
  };
  const text = makeSbom(input);
  expect(makeSbom(input)).toBe(text);
  expect(await validateSbom(text)).toBeNull();
  const bom = JSON.parse(text);
  expect(bom.metadata.timestamp).toBe("2023-11-14T22:13:20.000Z");
  const other = JSON.parse(makeSbom({ ...input, sums: "01  printerfacts-1.0.0-linux-x64\n" }));
  expect(other.serialNumber).not.toBe(bom.serialNumber);
  expect({ ...other, serialNumber: bom.serialNumber }).toEqual(bom);
  expect(() => makeSbom({ ...input, bun: { ...input.bun, version: "0.0.1" } })).toThrow(
    `node_modules/bun is ${Bun.version} but the binaries were built by Bun 0.0.1`,
  );
});

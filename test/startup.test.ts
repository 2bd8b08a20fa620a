// What the compiled binary loads at start. Every module in the bundle is evaluated before the
// first line of main runs, and each of Node's built-in modules costs Bun milliseconds and
// megabytes to load, so the Bun build must not carry what only Node or Deno use.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "./helpers/server.ts";

/** The source files that `bun build` puts in a bundle for target, and the external modules (node:…) they import. */
async function bundleContents(target: "bun" | "node") {
  const result = await Bun.build({ entrypoints: [join(ROOT, "src/main.ts")], target, metafile: true });
  expect(result.success).toBe(true);
  const inputs = Object.entries(result.metafile?.inputs ?? {});
  const externals = inputs.flatMap(([file, input]) =>
    input.imports.filter((i) => i.external).map((i) => ({ file, module: i.original ?? i.path, kind: i.kind })),
  );
  return { files: inputs.map(([file]) => file), externals, builtins: new Set(externals.map((e) => e.module)) };
}

describe("each build holds only its own runtime's adapter (package.json imports #runtime-adapter)", () => {
  test("the Bun build: adapters/bun.ts, and neither the Node adapter nor node:http", async () => {
    const { files, builtins } = await bundleContents("bun");
    expect(files).toContain("src/listen/adapters/bun.ts");
    expect(files).not.toContain("src/listen/adapters/node.ts");
    expect(files.filter((f) => f.includes("@hono/node-server"))).toEqual([]);
    for (const builtin of ["node:http", "node:http2", "node:stream"]) expect(builtins).not.toContain(builtin);
  });

  test("the Node build: adapters/node.ts and not the Bun adapter", async () => {
    const { files } = await bundleContents("node");
    expect(files).toContain("src/listen/adapters/node.ts");
    expect(files).not.toContain("src/listen/adapters/bun.ts");
  });
});

test("at start our code loads only node:fs and node:path; node:net and node:child_process only when needed", async () => {
  // Each of Node's modules costs Bun time and memory at every start: node:net about a megabyte
  // (it brings node:stream), node:crypto and node:child_process a little less. node:net is
  // needed only to probe a socket already at SOCKPATH and to match TRUST_PROXY, node:child_process
  // only to look up a SOCKGROUP name; SHA-256 comes from WebCrypto.
  const { externals } = await bundleContents("bun");
  const atStart = externals.filter((e) => e.file.startsWith("src/") && e.kind !== "dynamic-import");
  expect([...new Set(atStart.map((e) => e.module))].sort()).toEqual(["node:fs", "node:path"]);
});

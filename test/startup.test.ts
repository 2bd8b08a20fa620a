// What the compiled binary loads at start. Every module in the bundle is evaluated before the
// first line of main runs, and each of Node's built-in modules costs Bun milliseconds and
// megabytes to load, so the Bun build must not carry what only Node or Deno use.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "./helpers/server.ts";

/** The source files and external modules (node:…) that `bun build` puts in a bundle for target. */
async function bundleContents(target: "bun" | "node") {
  const result = await Bun.build({ entrypoints: [join(ROOT, "src/main.ts")], target, metafile: true });
  expect(result.success).toBe(true);
  const inputs = result.metafile?.inputs ?? {};
  const externals = new Set(Object.values(inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path)));
  return { files: Object.keys(inputs), externals };
}

describe("each build holds only its own runtime's adapter (package.json imports #runtime-adapter)", () => {
  test("the Bun build: serve/bun.ts, and neither the Node adapter nor node:http", async () => {
    const { files, externals } = await bundleContents("bun");
    expect(files).toContain("src/serve/bun.ts");
    expect(files.filter((f) => f.startsWith("src/serve/"))).not.toContain("src/serve/node.ts");
    expect(files.filter((f) => f.includes("@hono/node-server"))).toEqual([]);
    for (const builtin of ["node:http", "node:http2", "node:stream"]) expect(externals).not.toContain(builtin);
  });

  test("the Node build: serve/node.ts and not the Bun adapter", async () => {
    const { files } = await bundleContents("node");
    expect(files).toContain("src/serve/node.ts");
    expect(files).not.toContain("src/serve/bun.ts");
  });
});

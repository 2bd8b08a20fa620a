// The benchmark's baseline: a raw Bun.serve on a Unix socket returning one random fact, the same
// bytes /fact returns, with no framework, middleware or extra headers. It is the ceiling the
// runtime sets for this work; printerfacts is measured as a fraction of it.
import factsText from "../../facts.txt" with { type: "text" };

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const bodies = factsText.trimEnd().split("\n").map((line) => `${line}\n`);
const headers = { "Content-Type": "text/plain; charset=utf-8" };

const server = Bun.serve({
  unix: path,
  fetch: () => new Response(bodies[Math.floor(Math.random() * bodies.length)], { headers }),
});
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

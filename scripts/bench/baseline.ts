// The benchmark's baseline: a raw Bun.serve on a Unix socket returning one random fact, the same
// bytes /fact returns, with no framework or middleware. It is the ceiling the runtime sets for this
// work; printerfacts is measured as a fraction of it.
//
// BASELINE_HEADERS=app also sends exactly the headers printerfacts sends on /fact (read from the
// app once, prebuilt, plus a fresh request id): the ceiling for the same response, which splits
// the gap into what the headers cost and what the framework costs.
//
// BASELINE_FRAMEWORK=hono serves the same bytes through a bare Hono app (one route, no
// middleware): what the framework alone costs.
//
// The bench also compiles this file, as the build compiles printerfacts, for the runtime's own
// idle memory: the app and Hono are imported only in their modes, so that binary runs no Hono.
import { facts } from "../../src/facts.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const bodies = facts.map((fact) => `${fact.text}\n`);
const pick = () => bodies[Math.floor(Math.random() * bodies.length)];

let fetch: (request: Request) => Response | Promise<Response>;
if (process.env.BASELINE_FRAMEWORK === "hono") {
  const { Hono } = await import("hono");
  const app = new Hono().get("/fact", (c) => c.text(pick()));
  fetch = (request) => app.fetch(request);
} else if (process.env.BASELINE_HEADERS === "app") {
  const { createApp } = await import("../../src/app.ts");
  const sample = await createApp({ facts }).request("/fact");
  const headers = new Headers([...sample.headers].filter(([name]) => name !== "x-request-id"));
  fetch = () => {
    const own = new Headers(headers);
    own.set("X-Request-Id", crypto.randomUUID());
    return new Response(pick(), { headers: own });
  };
} else {
  const headers = { "Content-Type": "text/plain; charset=utf-8" };
  fetch = () => new Response(pick(), { headers });
}

const server = Bun.serve({ unix: path, fetch });
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

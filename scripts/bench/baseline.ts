// The bare rows: a raw Bun.serve on a Unix socket returning one random fact, the same body /fact
// returns but none of its headers, no request id, log line or metrics. What the runtime does with
// no work at all; the ceiling that does printerfacts' work is ceiling.ts.
//
// BASELINE_FRAMEWORK=hono serves the same bytes through a bare Hono app (one route, no
// middleware): what the framework alone costs.
import { facts } from "../../src/http/facts.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const bodies = facts.map((fact) => `${fact.text}\n`);
const pick = () => bodies[Math.floor(Math.random() * bodies.length)];

let fetch: (request: Request) => Response | Promise<Response>;
if (process.env.BASELINE_FRAMEWORK === "hono") {
  const { Hono } = await import("hono");
  const app = new Hono().get("/fact", (c) => c.text(pick()));
  fetch = (request) => app.fetch(request);
} else {
  const headers = { "Content-Type": "text/plain; charset=utf-8" };
  fetch = () => new Response(pick(), { headers });
}

const server = Bun.serve({ unix: path, fetch });
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

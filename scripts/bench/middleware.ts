// What each of Hono's middleware would cost a route of ours, in process (no sockets): one route
// like GET /facts/:id, bare and with methodNotAllowed, requestId or secureHeaders (our options)
// in front, alternating variants round by round. Why app.ts derives 405, the id and the secure
// headers itself instead of using() them. Run: bun scripts/bench/middleware.ts
import { Hono, type MiddlewareHandler } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { SECURE_HEADER_OPTIONS } from "../../src/http/headers.ts";

const ROUNDS = 7;
const REQUESTS = 50_000;

function build(middleware: ((app: Hono) => MiddlewareHandler)[]): Hono {
  const app = new Hono();
  for (const mw of middleware) app.use(mw(app));
  app.get("/facts/:id", (c) =>
    c.body("a fact\n", 200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": "7" }),
  );
  return app;
}

const allowed = (app: Hono) => methodNotAllowed({ app });
const id = () => requestId();
const secure = () => secureHeaders(SECURE_HEADER_OPTIONS);
const variants: [string, Hono][] = [
  ["no middleware", build([])],
  ["methodNotAllowed", build([allowed])],
  ["requestId", build([id])],
  ["secureHeaders", build([secure])],
  ["all three", build([allowed, id, secure])],
];

const request = new Request("http://localhost/facts/1");
async function microsPerRequest(app: Hono): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const pending = app.fetch(request);
    await (pending instanceof Promise ? await pending : pending).arrayBuffer();
  }
  return ((performance.now() - started) * 1000) / REQUESTS;
}

const results = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, app] of round % 2 ? [...variants].reverse() : variants)
    results.get(name)?.push(await microsPerRequest(app));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const bare = median(results.get("no middleware") ?? []);
console.log(
  `| route | µs per request (median of ${ROUNDS} rounds of ${REQUESTS}) | × no middleware |\n| --- | --- | --- |`,
);
for (const [name, values] of results)
  console.log(`| ${name} | ${median(values).toFixed(2)} | ${(median(values) / bare).toFixed(2)} |`);

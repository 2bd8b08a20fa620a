// The HTTP application: routes and headers only. No runtime or socket code lives here, so every
// route can be exercised with app.request() and every runtime adapter serves the same thing.
import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import { accepts } from "hono/accepts";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import type { Fact } from "./facts.ts";
import { headerSet, prebuiltBody, prebuiltResponse, requestIds, secureHeadersOnEveryResponse } from "./headers.ts";
import { log } from "./log.ts";
import { indexPage, notFoundPage } from "./pages.ts";
import { type Asset, assets } from "./static.ts";

/** What a runtime adapter tells the app about the connection a request came in on. */
export interface ConnInfo {
  transport: "unix" | "tcp";
  /** The TCP peer's address; none over a Unix socket. */
  remoteAddress?: string;
}

export type AppEnv = { Bindings: ConnInfo; Variables: { requestId: string } };

export interface AppOptions {
  facts: readonly Fact[];
  /** Uniform in [0, 1); injectable so tests can pick the fact. */
  random?: () => number;
  /** Request bodies over this many bytes get 413 (MAX_BODY); no route reads a body. */
  maxBodyBytes?: number;
  /** Middleware around every request once it has its id: the access log, the request metrics. */
  observers?: MiddlewareHandler<AppEnv>[];
  /** Serves GET /metrics here; left out when metrics have a listener of their own (or none). */
  metrics?: Handler<AppEnv>;
  /** Called for each fact sent in a response body. */
  onFactServed?: () => void;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";
const ALLOW = "GET, HEAD";

const FactId = v.pipe(
  v.string(),
  v.regex(/^\d{1,9}$/, "a fact id is a whole number, such as /facts/1"),
  v.transform(Number),
);

/** Bodies are built once at start: serving a fact allocates no new strings. */
function prebuild(fact: Fact) {
  return { fact, text: prebuiltBody(`${fact.text}\n`), json: prebuiltBody(`${JSON.stringify({ id: fact.id, fact: fact.text })}\n`) };
}

/** Whether Accept prefers `type` to text/plain, which is what everything else gets. */
function prefers(c: Context, type: "application/json" | "text/html"): boolean {
  const accept = c.req.header("accept");
  // The common case (no mention of the subtype at all) is answered without parsing the header.
  if (accept === undefined || !accept.includes(type.slice(type.indexOf("/") + 1))) return false;
  return accepts(c, { header: "Accept", supports: ["text/plain", type], default: "text/plain" }) === type;
}

export function createApp({ facts, random = Math.random, observers = [], metrics, onFactServed, maxBodyBytes }: AppOptions) {
  if (facts.length === 0) throw new Error("no facts to serve");
  const bodies = facts.map(prebuild);
  const pick = () => bodies[Math.floor(random() * bodies.length)];
  const served = (c: Context<AppEnv>) => {
    if (c.req.method !== "HEAD") onFactServed?.();
  };

  const app = new Hono<AppEnv>();

  // Honours an incoming X-Request-Id (nginx can pass $request_id) so one id follows a request
  // through both logs; otherwise makes one (Hono's requestId rules, src/headers.ts).
  app.use(requestIds());
  for (const observer of observers) app.use(observer);
  // The secure headers (src/headers.ts), and the id on every response not built with it.
  app.use(secureHeadersOnEveryResponse());
  if (maxBodyBytes !== undefined) {
    // Here, not in the runtime: Bun refuses a long Content-Length itself but drains an unread
    // chunked body of any length, and its limit on a read one surfaces as a handler error. This
    // answers a long Content-Length unread, reads at most maxBodyBytes of a chunked body, and
    // closes the connection with the 413 so the rest is never read.
    const limitBody = bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.text(`request body over ${maxBodyBytes} bytes\n`, 413, { Connection: "close" }),
    });
    // bodyLimit reads c.req.raw.body, which makes @hono/node-server build a whole Request (with an
    // AbortController) for every request. A request with neither Content-Length nor
    // Transfer-Encoding has no body (RFC 9112, 6.3), so only the others are looked at.
    app.use((c, next) =>
      c.req.header("content-length") === undefined && c.req.header("transfer-encoding") === undefined ? next() : limitBody(c, next),
    );
  }

  // The fact routes are the hot path: their headers are built once, per body type and cache policy.
  const factHeaders = (cache: string) => ({
    text: headerSet({ "Content-Type": TEXT, "Cache-Control": cache, Vary: "Accept" }),
    json: headerSet({ "Content-Type": JSON_TYPE, "Cache-Control": cache, Vary: "Accept" }),
  });
  const randomFact = factHeaders("no-store");
  const factById = factHeaders("public, max-age=3600");
  const factResponse = (c: Context<AppEnv>, body: ReturnType<typeof prebuild>, headers: ReturnType<typeof factHeaders>) => {
    served(c);
    return prefers(c, "application/json")
      ? prebuiltResponse(body.json, headers.json, c.get("requestId"))
      : prebuiltResponse(body.text, headers.text, c.get("requestId"));
  };

  // Hono answers HEAD with the GET handler and drops the body.
  app.get("/fact", (c) => factResponse(c, pick(), randomFact));

  app.get("/facts/:id", (c) => {
    const parsed = v.safeParse(FactId, c.req.param("id"));
    if (!parsed.success) return c.text(`${parsed.issues[0].message}\n`, 400);
    const body = bodies[parsed.output - 1];
    if (body === undefined) return c.text(`no fact #${parsed.output}; ids run from 1 to ${bodies.length}\n`, 404);
    return factResponse(c, body, factById);
  });

  app.get("/", (c) => {
    served(c);
    c.header("Cache-Control", "no-store");
    return c.html(indexPage(pick().fact));
  });

  app.get("/healthz", (c) => c.text("ok\n", 200, { "Cache-Control": "no-store" }));
  if (metrics) app.get("/metrics", metrics);

  const serveAsset = (asset: Asset) => (c: Context<AppEnv>) =>
    c.body(asset.body, 200, {
      "Content-Type": asset.contentType,
      // The name carries the content hash: a changed file gets a new name.
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  for (const asset of assets) app.get(asset.path, serveAsset(asset));

  // A known path with a method it does not take: 405 with Allow, not a misleading 404.
  for (const path of ["/", "/fact", "/facts/:id", "/healthz", ...(metrics ? ["/metrics"] : []), ...assets.map((a) => a.path)]) {
    app.all(path, (c) => c.text("method not allowed\n", 405, { Allow: ALLOW }));
  }

  app.notFound((c) =>
    prefers(c, "text/html") ? c.html(notFoundPage(c.req.path), 404) : c.text("not found\n", 404),
  );

  app.onError((err, c) => {
    const id = c.get("requestId");
    log.error(`request ${id} ${c.req.method} ${c.req.path} failed: ${err.stack ?? err}`);
    return c.text(`internal error; request id ${id}\n`, 500);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

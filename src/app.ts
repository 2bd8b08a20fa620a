// The HTTP application: routes, headers and the observers' hook. No runtime or socket code lives
// here, so every route can be exercised with app.request() and every runtime adapter serves the
// same thing. Hono routes; what every request needs (an id, the secure headers, the access log and
// metrics) is done around Hono rather than as middleware, because any middleware at all puts every
// request through Hono's async compose() (measured in BENCHMARKS.md).
import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import { accepts } from "hono/accepts";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import type { Fact } from "./facts.ts";
import { completeHeaders, isComplete, prebuilt, prebuiltResponse, requestIdFor, withContentLength } from "./headers.ts";
import { log } from "./log.ts";
import { indexPage, notFoundPage } from "./pages.ts";
import { type Asset, assets } from "./static.ts";

/** What a runtime adapter tells the app about the connection a request came in on. */
export interface ConnInfo {
  transport: "unix" | "tcp";
  /** The TCP peer's address; none over a Unix socket. */
  remoteAddress?: string;
}

/** One request on its way through the app: begun by fetch(), its route named by the handler. */
export interface Exchange {
  conn: ConnInfo;
  /** X-Request-Id: the caller's, if short and plain, else a new UUID (Hono's requestId rules). */
  requestId: string;
  /** The pattern of the route that answered (/facts/:id), "/*" when none did: a metrics label. */
  route: string;
  /** A HEAD request: the routes see it as GET, and the body is dropped after (app.fetch). */
  head: boolean;
}

export type AppEnv = { Bindings: Exchange };

/**
 * Told about every answered request once its response is complete: the access log and the request
 * metrics. Called synchronously and outside Hono's middleware chain, so an answer that needs no
 * await (GET /fact) never waits for a promise. `duration` is the time to produce the response, in
 * milliseconds. The response states its Content-Length unless it has no body; a HEAD response
 * states GET's and has no body.
 */
export type Observer = (request: Request, exchange: Exchange, response: Response, duration: number) => void;

export interface AppOptions {
  facts: readonly Fact[];
  /** Uniform in [0, 1); injectable so tests can pick the fact. */
  random?: () => number;
  /** Request bodies over this many bytes get 413 (MAX_BODY); no route reads a body. */
  maxBodyBytes?: number;
  /** The access log, the request metrics. */
  observers?: Observer[];
  /** Serves GET /metrics here; left out when metrics have a listener of their own (or none). */
  metrics?: Handler<AppEnv>;
  /** Called for each fact sent in a response body. */
  onFactServed?: () => void;
  /**
   * More routes, added after ours (test fixtures add routes that fail on purpose). They are counted
   * in the metrics under route "/*": only our own routes name their pattern.
   */
  extend?: (app: Hono<AppEnv>) => void;
}

export interface App {
  /** Answers one request: what a runtime adapter calls. */
  fetch(request: Request, conn: ConnInfo): Response | Promise<Response>;
  /** For tests: a path or URL (http://localhost is assumed), as Hono's app.request() takes it. */
  request(input: string | Request, init?: RequestInit, conn?: ConnInfo): Promise<Response>;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";
const ALLOW = "GET, HEAD";

const FactId = v.pipe(
  v.string(),
  v.regex(/^\d{1,9}$/, "a fact id is a whole number, such as /facts/1"),
  v.transform(Number),
);

/** Bodies and headers are built once at start: serving a fact copies one header set, adds the id. */
function prebuild(fact: Fact) {
  const text = `${fact.text}\n`;
  const json = `${JSON.stringify({ id: fact.id, fact: fact.text })}\n`;
  const variants = (cache: string) => ({
    text: prebuilt(text, { "Content-Type": TEXT, "Cache-Control": cache, Vary: "Accept" }),
    json: prebuilt(json, { "Content-Type": JSON_TYPE, "Cache-Control": cache, Vary: "Accept" }),
  });
  return { fact, random: variants("no-store"), byId: variants("public, max-age=3600") };
}

/** Whether Accept prefers `type` to text/plain, which is what everything else gets. */
function prefers(c: Context, type: "application/json" | "text/html"): boolean {
  const accept = c.req.header("accept");
  // The common case (no mention of the subtype at all) is answered without parsing the header.
  if (accept === undefined || !accept.includes(type.slice(type.indexOf("/") + 1))) return false;
  return accepts(c, { header: "Accept", supports: ["text/plain", type], default: "text/plain" }) === type;
}

export function createApp({ facts, random = Math.random, observers = [], metrics, onFactServed, maxBodyBytes, extend }: AppOptions): App {
  if (facts.length === 0) throw new Error("no facts to serve");
  const bodies = facts.map(prebuild);
  const pick = () => bodies[Math.floor(random() * bodies.length)];
  const served = (c: Context<AppEnv>) => {
    if (!c.env.head) onFactServed?.();
  };

  const factResponse = (c: Context<AppEnv>, variants: ReturnType<typeof prebuild>["random"]) => {
    served(c);
    return prebuiltResponse(prefers(c, "application/json") ? variants.json : variants.text, c.env.requestId);
  };

  /**
   * The routes, on a Hono app with no middleware: a request that matches one handler is answered
   * straight from it, with no compose() and no promise when the handler returns a Response.
   * `bodyLimit` is the one middleware, on a second copy that only requests with a body go through.
   */
  const routes = (bodyLimit?: MiddlewareHandler<AppEnv>) => {
    const app = new Hono<AppEnv>();
    if (bodyLimit) app.use(bodyLimit);
    // Each handler names its route for the metrics, so the label is the pattern, never the path.
    const get = (path: string, handler: Handler<AppEnv>) =>
      app.get(path, (c, next) => {
        c.env.route = path;
        return handler(c, next);
      });

    get("/fact", (c) => factResponse(c, pick().random));

    get("/facts/:id", (c) => {
      const parsed = v.safeParse(FactId, c.req.param("id"));
      if (!parsed.success) return c.text(`${parsed.issues[0].message}\n`, 400);
      const body = bodies[parsed.output - 1];
      if (body === undefined) return c.text(`no fact #${parsed.output}; ids run from 1 to ${bodies.length}\n`, 404);
      return factResponse(c, body.byId);
    });

    get("/", (c) => {
      served(c);
      c.header("Cache-Control", "no-store");
      return c.html(indexPage(pick().fact));
    });

    get("/healthz", (c) => c.text("ok\n", 200, { "Cache-Control": "no-store" }));
    if (metrics) get("/metrics", metrics);

    const serveAsset = (asset: Asset) => (c: Context<AppEnv>) =>
      c.body(asset.body, 200, {
        "Content-Type": asset.contentType,
        // The name carries the content hash: a changed file gets a new name.
        "Cache-Control": "public, max-age=31536000, immutable",
      });
    for (const asset of assets) get(asset.path, serveAsset(asset));
    extend?.(app);

    app.notFound((c) => {
      // A known path with a method it does not take: 405 with Allow, not a misleading 404. The
      // router's match for GET holds [handler, RouterRoute] pairs, bodyLimit's "*" route among
      // them on the copy that has it; a GET route's path is the pattern.
      const getRoute =
        c.req.method === "GET" ? undefined : app.router.match("GET", c.req.path)[0].find(([[, route]]) => route.method === "GET");
      if (getRoute !== undefined) {
        c.env.route = getRoute[0][1].path;
        return c.text("method not allowed\n", 405, { Allow: ALLOW });
      }
      return prefers(c, "text/html") ? c.html(notFoundPage(c.req.path), 404) : c.text("not found\n", 404);
    });

    app.onError((err, c) => {
      const id = c.env.requestId;
      log.error(`request ${id} ${c.env.head ? "HEAD" : c.req.method} ${c.req.path} failed: ${err.stack ?? err}`);
      return c.text(`internal error; request id ${id}\n`, 500);
    });
    return app;
  };

  const plain = routes();
  // Here, not in the runtime: Bun refuses a long Content-Length itself but drains an unread
  // chunked body of any length, and its limit on a read one surfaces as a handler error. This
  // answers a long Content-Length unread, reads at most maxBodyBytes of a chunked body, and
  // closes the connection with the 413 so the rest is never read.
  const limited =
    maxBodyBytes === undefined
      ? plain
      : routes(
          bodyLimit({
            maxSize: maxBodyBytes,
            onError: (c) => c.text(`request body over ${maxBodyBytes} bytes\n`, 413, { Connection: "close" }),
          }),
        );

  const observe = (request: Request, exchange: Exchange, response: Response, duration: number) => {
    // HEAD: GET's status and headers, Content-Length included, and no body (RFC 9110, 9.3.2).
    const res = exchange.head ? new Response(null, response) : response;
    for (const observer of observers) observer(request, exchange, res, duration);
    return res;
  };

  /** Secure headers and the id on what the handler did not build whole; then the observers. */
  const finish = (request: Request, exchange: Exchange, response: Response, started: number): Response | Promise<Response> => {
    const duration = performance.now() - started;
    if (isComplete(response)) return observe(request, exchange, response, duration);
    completeHeaders(response.headers, exchange.requestId);
    return withContentLength(response).then((res) => observe(request, exchange, res, duration));
  };

  const fetch = (request: Request, conn: ConnInfo): Response | Promise<Response> => {
    const started = performance.now();
    const headers = request.headers;
    const head = request.method === "HEAD";
    const exchange: Exchange = { conn, requestId: requestIdFor(headers.get("x-request-id")), route: "/*", head };
    // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112, 6.3).
    const mayHaveBody = headers.has("content-length") || headers.has("transfer-encoding");
    // HEAD is answered here, not by Hono: Hono drops the body before its length is known, and the
    // runtimes then say Content-Length: 0.
    // Only the URL and headers are carried over: copying the whole request would copy its signal,
    // which makes Deno print a warning about it. A HEAD body is never read.
    const routed = head ? new Request(request.url, { method: "GET", headers }) : request;
    const response = (mayHaveBody ? limited : plain).fetch(routed, exchange);
    return response instanceof Promise
      ? response.then((res) => finish(request, exchange, res, started))
      : finish(request, exchange, response, started);
  };

  return {
    fetch,
    request: async (input, init, conn = { transport: "unix" }) => {
      const request =
        typeof input === "string" ? new Request(/^https?:\/\//.test(input) ? input : `http://localhost${input}`, init) : new Request(input, init);
      return fetch(request, conn);
    },
  };
}

// The HTTP application. One route table says what is served; the Hono router, 405 and Allow, the
// metrics label, HEAD and the fast path (fast-path.ts) all come from it. No runtime or socket code
// lives here, so every route can be exercised with app.request() and every adapter serves the same.
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TrieRouter } from "hono/router/trie-router";
import { parseAccept } from "hono/utils/accept";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import type { AppEnv, ConnInfo, Logger, Observer, RequestState } from "../types.ts";
import type { Fact } from "./facts.ts";
import { fastPath } from "./fast-path.ts";
import {
  answerTo,
  completeHeaders,
  hasBody,
  type Prebuilt,
  type PrebuiltForm,
  prebuilt,
  prebuiltKind,
  requestIdFor,
} from "./headers.ts";
import { indexPage, notFoundPage } from "./pages.ts";
import { assets } from "./static.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A route's answer. No next(): routes are not middleware. */
type RouteHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

/**
 * One entry of the route table. A GET route answers HEAD too. No route reads a request body, so
 * MAX_BODY applies alike to every request that has one (`guarded`, below).
 */
export type Route = {
  method: Method;
  /** Hono's pattern; also the metrics label, so a label is never a raw path. */
  path: string;
} & (
  | { handler: RouteHandler; prebuilt?: never }
  /** An answer built whole at start, chosen per request: the fast path may serve it past Hono. */
  | { prebuilt: (state: RequestState) => Prebuilt; handler?: never }
);

export interface AppOptions {
  facts: readonly Fact[];
  /** Uniform in [0, 1); injectable so tests can pick the fact. */
  random?: () => number;
  /** Request bodies over this many bytes get 413 (MAX_BODY); no route reads a body. */
  maxBodyBytes?: number;
  /** The access log, the request metrics. */
  observers?: Observer[];
  /** Serves GET /metrics here; left out when metrics have a listener of their own (or none). */
  metrics?: RouteHandler;
  /** Called for each fact sent in a response body. */
  onFactServed?: () => void;
  /** Where a request that failed is reported; the console if not given. */
  log?: Logger;
  /** How answers built at start are kept: the form the runtime serves fastest (headers.ts); "headers" if not given. */
  prebuiltForm?: PrebuiltForm;
  /** More entries for the route table, served like its own (test fixtures add routes that fail on purpose). */
  routes?: readonly Route[];
}

export interface App {
  /** Answers one request: what a runtime adapter calls. */
  fetch(request: Request, conn: ConnInfo): Response | Promise<Response>;
  /** For tests: a path or URL (http://localhost is assumed), as Hono's app.request() takes it. */
  request(input: string | Request, init?: RequestInit, conn?: ConnInfo): Promise<Response>;
}

// One spelling of the charset on every answer (Hono's c.text() says UTF-8; the rest say utf-8).
const TEXT = "text/plain; charset=utf-8";
const HTML = "text/html; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

const FactId = v.pipe(
  v.string(),
  v.regex(/^\d{1,9}$/, "a fact id is a whole number, such as /facts/1"),
  v.transform(Number),
);

/** The kinds of a fact's answer: text or JSON, for /fact (no-store) and /facts/:id (cached). */
function answerKinds(form: PrebuiltForm) {
  const variants = (cache: string) => ({
    text: prebuiltKind({ "Content-Type": TEXT, "Cache-Control": cache, Vary: "Accept" }, form),
    json: prebuiltKind({ "Content-Type": JSON_TYPE, "Cache-Control": cache, Vary: "Accept" }, form),
  });
  return { random: variants("no-store"), byId: variants("public, max-age=3600") };
}

/** A fact's bodies, text and JSON, built once at start; each kind's headers are shared by all facts. */
function prebuild(fact: Fact, kinds: ReturnType<typeof answerKinds>) {
  const text = `${fact.text}\n`;
  const json = `${JSON.stringify({ id: fact.id, fact: fact.text })}\n`;
  const variants = (kind: (typeof kinds)["random"]) => ({ text: kind.text(text), json: kind.json(json) });
  return { fact, random: variants(kinds.random), byId: variants(kinds.byId) };
}
type Variants = ReturnType<typeof prebuild>["random"];

/** 1 for a range of every type, 2 for one of a main type ("text/*"), 3 for a type itself. */
const specificity = (range: string) => (range === "*/*" || range === "*" ? 1 : range.endsWith("/*") ? 2 : 3);

/**
 * Whether Accept prefers `type` to text/plain, which is what everything else gets, by the rule of
 * Hono's accepts() (test/unit/negotiation.test.ts holds the two equal): the ranges by q, then the
 * more specific first; the first that covers either type picks it, text/plain on a tie. A range of
 * every type covers neither, and a main type's ("text/*") no type that Accept also names itself.
 */
function prefers(accept: string | null, type: "application/json" | "text/html"): boolean {
  // The common case (no mention of the subtype at all) is answered without parsing the header.
  if (accept === null || !accept.includes(type.slice(type.indexOf("/") + 1))) return false;
  const ranges = parseAccept(accept);
  const named = new Set(ranges.filter((r) => specificity(r.type) === 3).map((r) => r.type.toLowerCase()));
  const covers = (range: string, wanted: string) => {
    const lower = range.toLowerCase();
    if (lower === wanted) return true;
    if (specificity(range) !== 2 || named.has(wanted)) return false;
    return lower.slice(0, lower.indexOf("/")) === wanted.slice(0, wanted.indexOf("/"));
  };
  const ordered = ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q || specificity(b.type) - specificity(a.type));
  for (const { type: range } of ordered) {
    if (covers(range, "text/plain")) return false;
    if (covers(range, type)) return true;
  }
  return false;
}

/** What fetch() knows of a request before it is answered (the fast path, Hono and the observers share it). */
export function requestState(request: Request, conn: ConnInfo): RequestState {
  const { path, encoded } = readPath(request.url);
  const method = request.method;
  const headers = request.headers;
  return {
    conn,
    method,
    headers,
    requestId: requestIdFor(headers.get("x-request-id")),
    path,
    encoded,
    route: "/*",
    head: method === "HEAD",
    bytes: undefined,
  };
}

/**
 * The path before any decoding (the URL parser has percent-encoded spaces, quotes and controls)
 * and whether it has a '%' to decode. One pass of charCodeAt over the URL, as Hono's getPath()
 * makes: on Bun that is cheaper than indexOf() on a request's URL (docs/benchmarks.md).
 */
function readPath(url: string): { path: string; encoded: boolean } {
  const start = url.indexOf("/", url.indexOf(":") + 4); // past "http://"
  if (start === -1) return { path: "/", encoded: false };
  let encoded = false;
  let end = start;
  for (; end < url.length; end++) {
    const code = url.charCodeAt(end);
    if (code === 63) break; // '?'
    if (code === 37) encoded = true; // '%'
  }
  return { path: url.slice(start, end), encoded };
}

/** A response that states its Content-Length: Hono's HEAD keeps it, and the access log reads it. */
function send(
  c: Context,
  body: string,
  status: ContentfulStatusCode,
  type: string,
  headers: Record<string, string> = {},
) {
  return c.body(body, status, { "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)), ...headers });
}

/** The table's paths, for requests no route took: which pattern the path belongs to, and its Allow. */
function pathsOf(routes: readonly Route[]) {
  const methods = new Map<string, string[]>();
  for (const { method, path } of routes) {
    methods.set(path, [...(methods.get(path) ?? []), method, ...(method === "GET" ? ["HEAD"] : [])]);
  }
  const router = new TrieRouter<{ pattern: string; allow: string[] }>();
  for (const [pattern, allow] of methods) router.add("ALL", pattern, { pattern, allow });
  return (path: string) => router.match("ALL", path)[0][0]?.[0];
}

export function createApp({
  facts,
  random = Math.random,
  observers = [],
  metrics,
  onFactServed,
  maxBodyBytes,
  routes: extra = [],
  log = console,
  prebuiltForm = "headers",
}: AppOptions): App {
  if (facts.length === 0) throw new Error("no facts to serve");
  const kinds = answerKinds(prebuiltForm);
  const bodies = facts.map((fact) => prebuild(fact, kinds));
  const pick = () => bodies[Math.floor(random() * bodies.length)];
  const served = (head: boolean) => {
    if (!head) onFactServed?.();
  };
  const negotiate = (state: RequestState, variants: Variants) =>
    prefers(state.headers.get("accept"), "application/json") ? variants.json : variants.text;

  const healthz = prebuilt("ok\n", { "Content-Type": TEXT, "Cache-Control": "no-store" }, prebuiltForm);

  // The route table.
  const routes: Route[] = [
    {
      method: "GET",
      path: "/fact",
      prebuilt: (state) => {
        served(state.head);
        return negotiate(state, pick().random);
      },
    },
    {
      method: "GET",
      path: "/facts/:id",
      handler: (c) => {
        const parsed = v.safeParse(FactId, c.req.param("id"));
        if (!parsed.success) return send(c, `${parsed.issues[0].message}\n`, 400, TEXT);
        const body = bodies[parsed.output - 1];
        if (body === undefined)
          return send(c, `no fact #${parsed.output}; ids run from 1 to ${bodies.length}\n`, 404, TEXT);
        served(c.env.head);
        return answerTo(c.env, negotiate(c.env, body.byId));
      },
    },
    {
      method: "GET",
      path: "/",
      handler: async (c) => {
        served(c.env.head);
        return send(c, String(await indexPage(pick().fact)), 200, HTML, { "Cache-Control": "no-store" });
      },
    },
    { method: "GET", path: "/healthz", prebuilt: () => healthz },
    ...(metrics ? [{ method: "GET", path: "/metrics", handler: metrics } as const] : []),
    ...assets.map((asset): Route => {
      // The name carries the content hash: a changed file gets a new name.
      const answer = prebuilt(
        asset.body,
        { "Content-Type": asset.contentType, "Cache-Control": "public, max-age=31536000, immutable" },
        prebuiltForm,
      );
      return { method: "GET", path: asset.path, prebuilt: () => answer };
    }),
    ...extra,
  ];

  // MAX_BODY, for a request that has a body, before its route or the 404/405 answers it. Bun
  // refuses a long Content-Length itself but drains an unread chunked body of any length: this
  // answers a long Content-Length unread, reads at most maxBodyBytes of a chunked body, and closes
  // the connection with the 413 so the rest is never read. Hono's bodyLimit, called per request
  // rather than with use(), which would put every request through Hono's async compose().
  const tooLarge = (c: Context<AppEnv>) =>
    send(c, `request body over ${maxBodyBytes} bytes\n`, 413, TEXT, { Connection: "close" });
  const limit =
    maxBodyBytes === undefined
      ? undefined
      : { bytes: maxBodyBytes, read: bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge }) };
  const guarded =
    (answer: RouteHandler): RouteHandler =>
    (c) => {
      if (limit === undefined || !hasBody(c.env.headers)) return answer(c);
      // GET and HEAD: the runtime keeps the body from us (Request.body is null) and drains it,
      // so its stated length is what MAX_BODY is held to. A chunked one states none.
      if (c.req.raw.body === null)
        return Number(c.req.header("content-length")) > limit.bytes ? tooLarge(c) : answer(c);
      return limit
        .read(c, async () => {
          c.res = await answer(c);
        })
        .then((refused) => refused ?? c.res);
    };

  const hono = new Hono<AppEnv>();
  for (const route of routes) {
    const answer: RouteHandler = route.handler ?? ((c) => answerTo(c.env, route.prebuilt(c.env)));
    hono.on(
      route.method,
      route.path,
      guarded((c) => {
        c.env.route = route.path;
        return answer(c);
      }),
    );
  }

  const pathOf = pathsOf(routes);
  hono.notFound(
    guarded((c) => {
      // A path of the table with a method it does not take: 405 with Allow, not a misleading 404.
      const known = pathOf(c.req.path);
      if (known !== undefined && !known.allow.includes(c.req.method)) {
        c.env.route = known.pattern;
        return send(c, "method not allowed\n", 405, TEXT, { Allow: known.allow.join(", ") });
      }
      // The body depends on Accept, so caches must key on it too.
      const vary = { Vary: "Accept" };
      return prefers(c.req.header("accept") ?? null, "text/html")
        ? send(c, String(notFoundPage(c.req.path)), 404, HTML, vary)
        : send(c, "not found\n", 404, TEXT, vary);
    }),
  );

  hono.onError((err, c) => {
    const id = c.env.requestId;
    log.error(`request ${id} ${c.req.method} ${c.req.path} failed: ${err.stack ?? err}`);
    return send(c, `internal error; request id ${id}\n`, 500, TEXT);
  });

  const fast = fastPath(routes);
  const duplicateHost = (requestId: string) => {
    const body = "more than one Host header\n";
    const headers = new Headers({ "Content-Type": TEXT, "Content-Length": String(body.length), Connection: "close" });
    completeHeaders(headers, requestId);
    return new Response(body, { status: 400, headers });
  };

  const observe = (state: RequestState, response: Response, started: number) => {
    const duration = performance.now() - started;
    for (const observer of observers) observer(state, response, duration);
    return response;
  };

  /** Through Hono: the id and the secure headers go on after the handler, then the observers. */
  const finish = (state: RequestState, response: Response, started: number) => {
    // A prebuilt answer carries its id and headers already.
    if (!response.headers.has("x-request-id")) completeHeaders(response.headers, state.requestId);
    return observe(state, response, started);
  };

  const fetch = (request: Request, conn: ConnInfo): Response | Promise<Response> => {
    const started = performance.now();
    const state = requestState(request, conn);
    // Two Host headers reach us joined by a comma (Bun, Node, Deno's node:http), which no host name
    // contains: 400, as RFC 9112, 3.2 requires. Deno.serve's parser says so itself (conn tells).
    if (!conn.refusesDuplicateHost && state.headers.get("host")?.includes(","))
      return observe(state, duplicateHost(state.requestId), started);
    const quick = fast(request, state);
    if (quick !== undefined) return observe(state, quick, started);
    // Hono hands fetch()'s second argument to every handler as c.env: the one way in for an object
    // made before Hono runs (the fast path and the observers share it), with no middleware to set it.
    const response = hono.fetch(request, state);
    return response instanceof Promise
      ? response.then((res) => finish(state, res, started))
      : finish(state, response, started);
  };

  return {
    fetch,
    request: async (input, init, conn = { transport: "unix" }) => {
      const request =
        typeof input === "string"
          ? new Request(/^https?:\/\//.test(input) ? input : `http://localhost${input}`, init)
          : new Request(input, init);
      return fetch(request, conn);
    },
  };
}

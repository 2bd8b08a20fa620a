// Response headers, built once at start. Hono's secureHeaders middleware sets its dozen headers one
// by one on every response after the handler; on GET /fact that cost more than the rest of the
// request (see BENCHMARKS.md). Here the same headers, taken from that middleware itself so the
// values stay the library's, are prebuilt into Headers sets: the hot routes copy a complete set
// and add only the request id, and every other response still gets the headers from middleware.
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";

export const secureHeaderOptions: Parameters<typeof secureHeaders>[0] = {
  // TLS ends at nginx: only it knows whether the client used HTTPS, so HSTS is set there
  // (deploy/nginx). A backend that sent it over plain HTTP would be lying.
  strictTransportSecurity: false,
  // The page has no script and loads only its own stylesheet and icon.
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: "DENY",
};

/** The headers Hono's secureHeaders sets with our options, read once from a throwaway app. */
async function headersSetBy(middleware: MiddlewareHandler): Promise<[string, string][]> {
  const probe = new Hono().use(middleware).get("/", (c) => c.body(null));
  return [...(await probe.request("/")).headers];
}

export const secureHeaderSet: readonly [string, string][] = await headersSetBy(secureHeaders(secureHeaderOptions));

/** A complete header set for one kind of response: the secure headers plus these. */
export function headerSet(extra: Record<string, string>): Headers {
  return new Headers([...secureHeaderSet, ...Object.entries(extra)]);
}

/** Responses built whole from a header set; the middleware below leaves them as they are. */
const complete = new WeakSet<Response>();

/**
 * A body built once, with its length: a response that states Content-Length lets the access log
 * count bytes without reading the body back and copying the response.
 */
export interface PrebuiltBody {
  text: string;
  length: string;
}

export function prebuiltBody(text: string): PrebuiltBody {
  return { text, length: String(new TextEncoder().encode(text).byteLength) };
}

export function prebuiltResponse(body: PrebuiltBody, headers: Headers, requestId: string): Response {
  const res = new Response(body.text, { headers }); // copying a Headers is far cheaper than setting each header
  res.headers.set("X-Request-Id", requestId);
  res.headers.set("Content-Length", body.length);
  complete.add(res);
  return res;
}

/** Hono's requestId rules: an incoming id is kept if it is short and plain, else a new UUID. */
function requestIdFor(incoming: string | undefined): string {
  return incoming && incoming.length <= 255 && !/[^\w\-=]/.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * Sets c.get("requestId") by Hono's requestId rules. Unlike Hono's middleware it puts nothing in
 * the context's prepared headers (a new Headers per request that prebuilt responses never use):
 * the id goes on the response with the secure headers, below.
 */
export function requestIds(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return function requestIds(c, next) {
    c.set("requestId", requestIdFor(c.req.header("X-Request-Id")));
    return next();
  };
}

/**
 * X-Request-Id and the secure headers on every response, as Hono's requestId and secureHeaders
 * set them; a response built from a header set already has both, so nothing is done to it.
 */
export function secureHeadersOnEveryResponse(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async function secureHeadersOnEveryResponse(c, next) {
    await next();
    if (complete.has(c.res)) return;
    const headers = c.res.headers;
    headers.set("X-Request-Id", c.get("requestId"));
    for (const [name, value] of secureHeaderSet) headers.set(name, value);
  };
}

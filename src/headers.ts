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

export function prebuiltResponse(body: string, headers: Headers, requestId: string): Response {
  const res = new Response(body, { headers }); // copying a Headers is far cheaper than setting each header
  res.headers.set("X-Request-Id", requestId);
  complete.add(res);
  return res;
}

/** Gives every response that was not built from a header set the secure headers. */
export function secureHeadersOnEveryResponse(): MiddlewareHandler {
  return async function prebuiltSecureHeaders(c, next) {
    await next();
    if (complete.has(c.res)) return;
    for (const [name, value] of secureHeaderSet) c.res.headers.set(name, value);
  };
}

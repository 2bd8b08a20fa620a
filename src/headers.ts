// Response headers, built once at start. Hono's secureHeaders middleware sets its dozen headers one
// by one on every response after the handler; on GET /fact that cost more than the rest of the
// request (see BENCHMARKS.md). Here the same headers, taken from that middleware itself so the
// values stay the library's, are prebuilt into Headers sets: the hot routes copy a complete set
// and add only the request id, and every other response gets them set one by one (app.ts).
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";

const secureHeaderOptions: Parameters<typeof secureHeaders>[0] = {
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

const secureHeaderSet: readonly [string, string][] = await headersSetBy(secureHeaders(secureHeaderOptions));

/** A complete header set for one kind of response: the secure headers plus these. */
function headerSet(extra: Record<string, string>): Headers {
  return new Headers([...secureHeaderSet, ...Object.entries(extra)]);
}

/** A body and all its headers but the request id, Content-Length included, built once at start. */
export interface Prebuilt {
  body: string;
  headers: Headers;
}

export function prebuilt(body: string, headers: Record<string, string>): Prebuilt {
  return { body, headers: headerSet({ ...headers, "Content-Length": String(Buffer.byteLength(body)) }) };
}

/** Responses built whole from a prebuilt set: nothing is added to them after the handler. */
const complete = new WeakSet<Response>();

export function prebuiltResponse({ body, headers }: Prebuilt, requestId: string): Response {
  // Copying a Headers is far cheaper than setting each header (measured in BENCHMARKS.md).
  const res = new Response(body, { headers });
  res.headers.set("X-Request-Id", requestId);
  complete.add(res);
  return res;
}

export function isComplete(res: Response): boolean {
  return complete.has(res);
}

/** Hono's requestId rules: an incoming id is kept if it is short and plain, else a new UUID. */
export function requestIdFor(incoming: string | null): string {
  return incoming && incoming.length <= 255 && !/[^\w\-=]/.test(incoming) ? incoming : crypto.randomUUID();
}

/** X-Request-Id and the secure headers, as Hono's requestId and secureHeaders middleware set them. */
export function completeHeaders(headers: Headers, requestId: string): void {
  headers.set("X-Request-Id", requestId);
  for (const [name, value] of secureHeaderSet) headers.set(name, value);
}

/**
 * The response with Content-Length stated, so the access log can count bytes without reading the
 * body. Responses built from prebuilt sets and /metrics state it already; the others (pages,
 * errors) are read once and rebuilt.
 */
export async function withContentLength(res: Response): Promise<Response> {
  if (res.body === null || res.headers.has("content-length")) return res;
  const body = await res.arrayBuffer();
  const rebuilt = new Response(body, res);
  rebuilt.headers.set("Content-Length", String(body.byteLength));
  return rebuilt;
}

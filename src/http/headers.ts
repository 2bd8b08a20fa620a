// Response headers every answer carries, and responses built whole at start (prebuilt): the hot
// routes copy one header set and add the request id, instead of setting a dozen headers each time.
import type { secureHeaders } from "hono/secure-headers";

/**
 * What Hono's secureHeaders middleware sets with SECURE_HEADER_OPTIONS, written out so no app has
 * to run at start to learn it; test/unit/headers.test.ts holds the two equal.
 */
export const SECURE_HEADERS: readonly (readonly [string, string])[] = [
  [
    "content-security-policy",
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  ],
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "no-referrer"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "DENY"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

/** The options for Hono's secureHeaders that SECURE_HEADERS stands for. */
export const SECURE_HEADER_OPTIONS: Parameters<typeof secureHeaders>[0] = {
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

/** Hono's requestId rule: an incoming id is kept if it is short and plain, else a new UUID. */
export function requestIdFor(incoming: string | null): string {
  return incoming && incoming.length <= 255 && !/[^\w\-=]/.test(incoming) ? incoming : crypto.randomUUID();
}

/** A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112, 6.3). */
export function hasBody(headers: Headers): boolean {
  return headers.has("content-length") || headers.has("transfer-encoding");
}

/** X-Request-Id and the secure headers, on a response the app did not build whole. */
export function completeHeaders(headers: Headers, requestId: string): void {
  headers.set("X-Request-Id", requestId);
  for (const [name, value] of SECURE_HEADERS) headers.set(name, value);
}

/**
 * A body and all its headers but the request id, Content-Length included. Each runtime gets the
 * form it builds a Response from fastest (docs/benchmarks.md): Bun and Node a copied Headers; Deno
 * a whole Response to clone, since Deno checks every header again in each new Response but not
 * in a clone, and a plain object for HEAD. Which form is the caller's choice (PrebuiltForm): this
 * folder holds no runtime code.
 */
export interface Prebuilt {
  readonly body: string;
  /** Content-Length, for the access log. */
  readonly bytes: number;
  readonly headers: Headers | Readonly<Record<string, string>>;
  /** Deno only: the GET answer, cloned for each request. */
  readonly template?: Response;
}

/** "headers" (Bun, Node): a Headers copied per response; "template" (Deno): a Response cloned per GET. */
export type PrebuiltForm = "headers" | "template";

export function prebuilt(body: string, headers: Record<string, string>, form: PrebuiltForm = "headers"): Prebuilt {
  const bytes = Buffer.byteLength(body);
  const all = { ...Object.fromEntries(SECURE_HEADERS), ...headers, "Content-Length": String(bytes) };
  if (form === "template") return { body, bytes, headers: all, template: new Response(body, { headers: all }) };
  return { body, bytes, headers: new Headers(all) };
}

/** The prebuilt answer with this request's id; no body for HEAD, with GET's Content-Length. */
export function prebuiltResponse({ body, headers, template }: Prebuilt, requestId: string, head = false): Response {
  let res: Response;
  if (template !== undefined && !head) res = template.clone();
  else if (headers instanceof Headers) res = new Response(head ? null : body, { headers });
  else return new Response(head ? null : body, { headers: { ...headers, "X-Request-Id": requestId } });
  res.headers.set("X-Request-Id", requestId);
  return res;
}

// Response headers every answer carries, and responses built whole at start (prebuilt): the hot
// routes copy one header set and add the request id, instead of setting a dozen headers each time.
import type { secureHeaders } from "hono/secure-headers";
import type { RequestState } from "../types.ts";

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
 * A body and all its headers but the request id and Content-Length, which the runtime states for a
 * string body (HEAD gets it from `bytes`). The headers are shared by every body of a kind: a
 * Headers per fact and kind was half a megabyte of idle memory. Each runtime gets the form it builds
 * a Response from fastest (docs/benchmarks.md): Bun and Node a Headers to copy, Deno a whole
 * Response to clone, since Deno checks every header again in each new Response but not in a clone.
 * Which form is the caller's choice (PrebuiltForm): this folder holds no runtime code.
 */
export interface Prebuilt {
  readonly body: string;
  /** Content-Length, for HEAD and the access log. */
  readonly bytes: number;
  /** The kind's headers, for HEAD's answer, which is built anew. */
  readonly fields: Readonly<Record<string, string>>;
  /** Bun and Node: the kind's headers as a Headers, shared by its bodies. */
  readonly headers?: Headers;
  /** Deno only: the GET answer, cloned for each request. */
  readonly template?: Response;
}

/** "headers" (Bun, Node): a Headers copied per response; "template" (Deno): a Response cloned per GET. */
export type PrebuiltForm = "headers" | "template";

/** The prebuilt answers of one kind: one set of headers (the secure ones and `fields`) for all bodies. */
export function prebuiltKind(fields: Record<string, string>, form: PrebuiltForm = "headers") {
  const shared = { ...Object.fromEntries(SECURE_HEADERS), ...fields };
  const headers = form === "headers" ? new Headers(shared) : undefined;
  return (body: string): Prebuilt => {
    const bytes = Buffer.byteLength(body);
    if (form === "headers") return { body, bytes, fields: shared, headers };
    const template = new Response(body, { headers: { ...shared, "Content-Length": String(bytes) } });
    return { body, bytes, fields: shared, template };
  };
}

/** One prebuilt answer, the only one of its kind. */
export function prebuilt(body: string, fields: Record<string, string>, form: PrebuiltForm = "headers"): Prebuilt {
  return prebuiltKind(fields, form)(body);
}

/** The prebuilt answer with this request's id; no body for HEAD, with GET's Content-Length. */
export function prebuiltResponse(answer: Prebuilt, requestId: string, head = false): Response {
  const { body, bytes, fields, headers, template } = answer;
  if (head)
    return new Response(null, { headers: { ...fields, "Content-Length": String(bytes), "X-Request-Id": requestId } });
  const res = template?.clone() ?? new Response(body, { headers });
  // Node's Response (@hono/node-server) keeps the Headers it is given as its own, so on Node this
  // writes the id into the shared set; Node sends the head before it runs another request's app.
  res.headers.set("X-Request-Id", requestId);
  return res;
}

/** A prebuilt answer to this request: its id, no body for HEAD, and the length for the access log. */
export function answerTo(state: RequestState, answer: Prebuilt): Response {
  state.bytes = answer.bytes;
  return prebuiltResponse(answer, state.requestId, state.head);
}

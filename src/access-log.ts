// The access log: one line per request on stdout, as text (logfmt) or JSON.
//
// Hono's own logger() middleware does not fit: it prints two free-form lines per request
// ("<-- GET /" and "--> GET / 200 1ms"), one synchronous console.log each, with no bytes,
// request id or client address and no JSON form.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app.ts";
import type { ClientAddress } from "./client-address.ts";
import type { LogFormat } from "./config.ts";
import type { Level } from "./log.ts";
import type { LineWriter } from "./line-writer.ts";

export interface AccessRecord {
  /** When the request arrived, ISO 8601 UTC. */
  time: string;
  method: string;
  /** The path as it came in (still percent-encoded), without the query string. */
  path: string;
  status: number;
  /** Response body bytes; 0 for HEAD and for responses without a body. */
  bytes: number;
  /** Time to produce the response, in milliseconds to the microsecond. */
  duration_ms: number;
  request_id: string;
  /** See client-address.ts; null when nobody trustworthy said. */
  client: string | null;
}

export interface AccessLogOptions {
  format: LogFormat;
  clientAddress: ClientAddress;
  writer: LineWriter;
  /** Whether lines of this level are written (LOG_LEVEL): 5xx are "error", the rest "info". */
  isEnabled: (level: Level) => boolean;
}

export function accessLog({ format, clientAddress, writer, isEnabled }: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const render = format === "json" ? toJson : toText;
  return async (c, next) => {
    const arrived = Date.now();
    const started = performance.now();
    await next();
    const duration = performance.now() - started;
    const status = c.res.status;
    if (!isEnabled(status >= 500 ? "error" : "info")) return;
    writer.write(
      render({
        time: new Date(arrived).toISOString(),
        method: c.req.method,
        path: rawPath(c.req.url),
        status,
        bytes: await bodyBytes(c),
        duration_ms: Math.round(duration * 1000) / 1000,
        request_id: c.get("requestId"),
        client: clientAddress(c.req.raw.headers, c.env),
      }),
    );
  };
}

/** The path before any decoding: the URL parser has percent-encoded spaces, quotes and controls. */
function rawPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query === -1 ? undefined : query);
}

/** Content-Length when the app set it; otherwise the body is read once and put back. */
async function bodyBytes(c: Context<AppEnv>): Promise<number> {
  if (c.req.method === "HEAD") return 0; // Hono answers HEAD with the GET response, minus its body
  const res = c.res;
  // The header first: reading res.body makes Bun build a stream for a string body (about 0.6 us
  // a request, measured), which the fact routes avoid by stating their length.
  const length = res.headers.get("content-length");
  if (length !== null) return Number(length);
  if (res.body === null) return 0;
  const body = await res.arrayBuffer();
  // Hono's setter would copy every header onto a second new Response; it need not merge here.
  c.res = undefined;
  c.res = new Response(body, res);
  return body.byteLength;
}

function toJson(r: AccessRecord): string {
  return `${JSON.stringify(r)}\n`;
}

/** logfmt: key=value pairs; a value with a space, quote, = or control character is JSON-quoted. */
function toText(r: AccessRecord): string {
  return `time=${r.time} method=${text(r.method)} path=${text(r.path)} status=${r.status} bytes=${r.bytes} duration_ms=${r.duration_ms} request_id=${text(r.request_id)} client=${r.client ?? "-"}\n`;
}

const BARE = /^[\x21\x23-\x3c\x3e-\x7e]+$/; // printable ASCII but '"' and '='

function text(value: string): string {
  return BARE.test(value) ? value : JSON.stringify(value);
}

// The access log: one line per request on stdout, as text (logfmt) or JSON.
//
// Hono's own logger() middleware does not fit: it prints two free-form lines per request
// ("<-- GET /" and "--> GET / 200 1ms"), one synchronous console.log each, with no bytes,
// request id or client address and no JSON form.
import type { Observer } from "../types.ts";
import type { ClientAddress } from "./client-address.ts";
import type { LogFormat } from "../config.ts";
import type { Level } from "../log.ts";
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
  /** Time to produce the response, in milliseconds, written to the microsecond. */
  duration_ms: number;
  request_id: string;
  /** See client-address.ts; null when nobody trustworthy said. */
  client: string | null;
}

export interface AccessLogOptions {
  format: LogFormat;
  clientAddress: ClientAddress;
  writer: Pick<LineWriter, "write">;
  /** Whether lines of this level are written (LOG_LEVEL): 5xx are "error", the rest "info". */
  isEnabled: (level: Level) => boolean;
}

export function accessLog({ format, clientAddress, writer, isEnabled }: AccessLogOptions): Observer {
  const render = format === "json" ? toJson : toText;
  const timeOf = clock();
  return (state, response, duration) => {
    const status = response.status;
    if (!isEnabled(status >= 500 ? "error" : "info")) return;
    const method = state.method;
    writer.write(
      render({
        time: timeOf(Date.now() - duration), // when the request arrived
        method,
        path: state.path,
        status,
        // A HEAD response has no body; every other one states its length (app.ts), so the body is
        // never read here, nor the header when the app says what it sent.
        bytes: method === "HEAD" ? 0 : (state.bytes ?? Number(response.headers.get("content-length") ?? 0)),
        duration_ms: duration,
        request_id: state.requestId,
        client: clientAddress(state.headers, state.conn),
      }),
    );
  };
}

/**
 * Milliseconds to the microsecond, as String(Math.round(ms * 1000) / 1000) writes them ("0.25",
 * "12", "1500.123"), from integers: the shortest digits of a fraction cost twice as much.
 */
function milliseconds(ms: number): string {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1000);
  let fraction = us - whole * 1000;
  if (fraction === 0) return `${whole}`;
  let digits = 3;
  for (; fraction % 10 === 0; digits--) fraction /= 10;
  return `${whole}.${`${fraction}`.padStart(digits, "0")}`;
}

/**
 * ISO 8601 time of a wall-clock instant in milliseconds. A busy server logs many requests in the
 * same millisecond: the string is made once per millisecond, not once per request. The wall clock
 * (Date.now()), not performance.timeOrigin plus a monotonic reading, so that a clock step after
 * the start (NTP, a resumed VM) shows in the log as it does everywhere else.
 */
function clock(): (ms: number) => string {
  let lastMs = -1;
  let last = "";
  return (time) => {
    const ms = Math.floor(time);
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}

/** The same line JSON.stringify(r) makes, field by field: most strings need no escaping. */
function toJson(r: AccessRecord): string {
  const client = r.client === null ? "null" : `"${inJson(r.client)}"`;
  return `{"time":"${r.time}","method":"${inJson(r.method)}","path":"${inJson(r.path)}","status":${r.status},"bytes":${r.bytes},"duration_ms":${milliseconds(r.duration_ms)},"request_id":"${inJson(r.request_id)}","client":${client}}\n`;
}

const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/; // printable ASCII but '"' and '\\': nothing to escape

/** A string as it goes between a JSON string's quotes. */
function inJson(value: string): string {
  return JSON_PLAIN.test(value) ? value : JSON.stringify(value).slice(1, -1);
}

/** logfmt: key=value pairs; a value with a space, quote, = or control character is JSON-quoted. */
function toText(r: AccessRecord): string {
  return `time=${r.time} method=${text(r.method)} path=${text(r.path)} status=${r.status} bytes=${r.bytes} duration_ms=${milliseconds(r.duration_ms)} request_id=${text(r.request_id)} client=${r.client ?? "-"}\n`;
}

const BARE = /^[\x21\x23-\x3c\x3e-\x7e]+$/; // printable ASCII but '"' and '='

function text(value: string): string {
  return BARE.test(value) ? value : JSON.stringify(value);
}

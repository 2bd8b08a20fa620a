// The work every row of the benchmark does for GET /fact, for the ceilings and the JavaScript peers
// (the Go and Rust peers do the same in their own language): the body and headers printerfacts
// sends (read from WORK_FILE, which the bench writes from the app itself), the caller's request id
// if short and plain else a new UUID, one JSON access-log line per request written to stdout in
// batches (100 ms or 64 KiB), and the request counted in a latency histogram by method, route and
// status, as printerfacts labels it.
import { readFileSync, writeSync } from "node:fs";

export interface Work {
  /** /fact's headers but Content-Length and X-Request-Id, as printerfacts sends them. */
  headers: [string, string][];
  facts: string[];
}

export interface Answer {
  body: string;
  bytes: number;
  /** All the headers but X-Request-Id, Content-Length included. */
  fields: Record<string, string>;
}

export function loadWork(): Answer[] {
  const file = process.env.WORK_FILE;
  if (!file) throw new Error("WORK_FILE is required");
  const work: Work = JSON.parse(readFileSync(file, "utf8"));
  return work.facts.map((fact) => {
    const body = `${fact}\n`;
    const bytes = Buffer.byteLength(body);
    return { body, bytes, fields: Object.fromEntries([...work.headers, ["Content-Length", String(bytes)]]) };
  });
}

const NOT_PLAIN = /[^\w\-=]/;

export function requestId(incoming: string | null | undefined): string {
  return incoming && incoming.length <= 255 && !NOT_PLAIN.test(incoming) ? incoming : crypto.randomUUID();
}

const JSON_PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const inJson = (s: string) => (JSON_PLAIN.test(s) ? s : JSON.stringify(s).slice(1, -1));

let lastMs = -1;
let lastIso = "";
function iso(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let pending = "";
let timer: ReturnType<typeof setTimeout> | undefined;
// One buffer for every batch, as src/observe/line-writer.ts does.
let out = Buffer.allocUnsafe(3 * 65536);
function flush() {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (pending.length * 3 > out.length) out = Buffer.allocUnsafe(pending.length * 3);
  const length = out.write(pending);
  pending = "";
  for (let done = 0; done < length; ) done += writeSync(1, out, done, length - done);
}
process.on("exit", flush);

/** The access-log line, the same fields and bytes as printerfacts' LOG_FORMAT=json. */
function logRequest(
  method: string,
  url: string,
  bytes: number,
  duration: number,
  id: string,
  client: string | null | undefined,
): void {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  const path = start === -1 ? url : url.slice(start, query === -1 ? undefined : query);
  pending += `{"time":"${iso(Math.floor(Date.now() - duration))}","method":"${inJson(method)}","path":"${inJson(path)}","status":200,"bytes":${bytes},"duration_ms":${Math.round(duration * 1000) / 1000},"request_id":"${inJson(id)}","client":${client ? `"${inJson(client)}"` : "null"}}\n`;
  if (pending.length >= 65536) flush();
  else if (timer === undefined) timer = setTimeout(flush, 100);
}

/**
 * What printerfacts does once a /fact answer is built: the request in the metrics, then (unless
 * `log` is false) its access-log line. `started` is performance.now() when the request came in.
 */
export function finishRequest(
  method: string,
  url: string,
  bytes: number,
  started: number,
  id: string,
  client: string | null | undefined,
  log = true,
): void {
  const duration = performance.now() - started;
  countRequest(method, "/fact", 200, duration / 1000);
  if (log) logRequest(method, url, bytes, duration, id, client);
}

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const series = new Map<string, Map<string, Map<number, { counts: Float64Array; sum: number }>>>();
export const counters = { factsServed: 0 };

/** One request in its (method, route, status) series' histogram, and one fact served. */
function countRequest(method: string, route: string, status: number, seconds: number): void {
  let byRoute = series.get(method);
  if (byRoute === undefined) {
    byRoute = new Map();
    series.set(method, byRoute);
  }
  let byStatus = byRoute.get(route);
  if (byStatus === undefined) {
    byStatus = new Map();
    byRoute.set(route, byStatus);
  }
  let s = byStatus.get(status);
  if (s === undefined) {
    s = { counts: new Float64Array(BUCKETS.length + 1), sum: 0 };
    byStatus.set(status, s);
  }
  let b = 0;
  while (b < BUCKETS.length && seconds > BUCKETS[b]) b++;
  s.counts[b]++;
  s.sum += seconds;
  counters.factsServed++;
}

export const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];

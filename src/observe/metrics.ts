// Prometheus metrics: requests by route and status, a latency histogram, facts served, build info
// and the process metrics (process-metrics.ts), written in the text format (prometheus-text.ts).
//
// Hand-written rather than prom-client: prom-client alone takes about 16 MB in an otherwise empty
// compiled Bun program, its default metrics keep a 10 ms timer waking the idle process, and even
// its bound children hash the label set on every inc() and observe(). Here a request finds its
// series through three Map lookups and adds to plain numbers. The format is small and stable, and
// the tests run promtool over the output of every runtime. (@hono/prometheus is prom-client too,
// and labels by the raw method.)
import { type Context, Hono } from "hono";
import type { AppEnv, Observer } from "../types.ts";
import { droppedLines } from "./line-writer.ts";
import { processMetrics } from "./process-metrics.ts";
import { CONTENT_TYPE, formatValue, header, histogramLines, labelText, sampleLine, single } from "./prometheus-text.ts";

/** Seconds. The service answers in well under a millisecond; the top buckets catch stalls. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const LE = LATENCY_BUCKETS.map(formatValue);

/** Any other method is counted as "other": a label must not take values a client chooses. */
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
const OTHER = "other";

const RESPONSE_HEADERS = { "Content-Type": CONTENT_TYPE, "Cache-Control": "no-store" };

export interface BuildInfo {
  version: string;
  /** Runtime and its version, such as "bun 1.4.5". */
  runtime: string;
}

/** One label set's requests: http_requests_total is the histogram's count. */
interface Series {
  /** method="GET",route="/fact",status="200", escaped once. */
  labels: string;
  /** Observations per bucket alone (not cumulative); the last one past the highest bound. */
  counts: Float64Array;
  sum: number;
}

export function createMetrics(build: BuildInfo) {
  const processText = processMetrics();
  const buildInfo =
    header(
      "printerfacts_build_info",
      "gauge",
      "Always 1; the labels say which build of printerfacts is running on which runtime.",
    ) + sampleLine("printerfacts_build_info", labelText({ version: build.version, runtime: build.runtime }), 1);
  let factsServed = 0;

  // method -> route pattern -> status -> series. A handful of entries: the route is the pattern
  // (/facts/:id; /* for unknown paths), never the raw path. Unknown methods share "other"'s map,
  // so they add nothing to it either.
  const byMethod = new Map<string, Map<string, Map<number, Series>>>();
  for (const method of [...METHODS, OTHER]) byMethod.set(method, new Map());
  const other = byMethod.get(OTHER) as Map<string, Map<number, Series>>;
  const all: Series[] = [];

  function addSeries(method: string, route: string, status: number): Series {
    const labels = labelText({ method: byMethod.has(method) ? method : OTHER, route, status: String(status) });
    const series = { labels, counts: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0 };
    all.push(series);
    return series;
  }

  /** Counts one answered request. Allocates only for a label set's first request. */
  function observe(method: string, route: string, status: number, seconds: number): void {
    const routes = byMethod.get(method) ?? other;
    let statuses = routes.get(route);
    if (statuses === undefined) {
      statuses = new Map();
      routes.set(route, statuses);
    }
    let series = statuses.get(status);
    if (series === undefined) {
      series = addSeries(method, route, status);
      statuses.set(status, series);
    }
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    series.counts[bucket]++;
    series.sum += seconds;
  }

  function render(): string {
    let out =
      processText() +
      buildInfo +
      single(
        "printerfacts_facts_served_total",
        "counter",
        "Facts sent to clients (HEAD requests send none).",
        factsServed,
      ) +
      logLinesDropped() +
      header("http_requests_total", "counter", "HTTP requests answered, by method, route pattern and status.");
    for (const s of all)
      out += sampleLine(
        "http_requests_total",
        s.labels,
        s.counts.reduce((a, b) => a + b, 0),
      );
    out += header(
      "http_request_duration_seconds",
      "histogram",
      "Time to produce the response, in seconds, by method, route pattern and status.",
    );
    for (const s of all) out += histogramLines("http_request_duration_seconds", s.labels, LE, s.counts, s.sum);
    return out;
  }

  const serve = (c: Context): Response => {
    const text = render();
    // The length stated here survives Hono's HEAD (the metrics-only listener is plain Hono).
    return c.body(text, 200, { ...RESPONSE_HEADERS, "Content-Length": String(Buffer.byteLength(text)) });
  };

  return {
    observe,
    factServed: (): void => {
      factsServed++;
    },
    /** The whole exposition text. */
    render,
    /** The GET /metrics handler, for the main app when there is no separate listener. */
    serve,
    /** The whole metrics-only listener's app: GET /metrics, 404 for anything else. */
    app: () => new Hono<AppEnv>().get("/metrics", serve),
    /** The app's observer (app.ts): every answered request, by its route pattern. */
    observer: ((state, response, duration) =>
      observe(state.method, state.route, response.status, duration / 1000)) satisfies Observer,
  };
}

/** Both streams always, so that rate() and alerts see a 0 before the first drop. */
function logLinesDropped(): string {
  const name = "printerfacts_log_lines_dropped_total";
  const dropped = droppedLines();
  return (
    header(
      name,
      "counter",
      "Log lines dropped because their reader (stdout: the access log; stderr: the service's own lines) fell more than the buffer behind, or is gone.",
    ) +
    sampleLine(name, labelText({ stream: "stdout" }), dropped.stdout) +
    sampleLine(name, labelText({ stream: "stderr" }), dropped.stderr)
  );
}

// Prometheus metrics through prom-client: requests by route and status, a latency histogram,
// facts served, build info, and the process metrics.
//
// The request metrics are counted here rather than with @hono/prometheus: its middleware costs
// about twice as much per request (it hashes the label set on every observation, reads the
// deprecated c.req.routePath and adds a redundant "ok" label), and it labels by the raw method,
// so any method a runtime's parser lets through becomes a new series.
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { readFileSync } from "node:fs";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AppEnv } from "./app.ts";

/**
 * prom-client's defaults that promtool rejects (gauges named *_total) and that Bun does not
 * fill in (they read Node's private handle lists and are always 0 there).
 */
const UNFIT_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/**
 * prom-client reads these from /proc/self. Deno denies /proc/self short of --allow-all, and
 * prom-client then reports 0, which is worse than no series.
 */
const PROC_DEFAULTS = ["process_resident_memory_bytes", "process_virtual_memory_bytes", "process_heap_bytes", "process_open_fds", "process_max_fds"];

function procSelfReadable(): boolean {
  try {
    readFileSync("/proc/self/status");
    return true;
  } catch {
    return false;
  }
}

/** Seconds. The service answers in well under a millisecond; the top buckets catch stalls. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Any other method is counted as "other": a label must not take values a client chooses. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]);

export interface BuildInfo {
  version: string;
  /** Runtime and its version, such as "bun 1.4.5". */
  runtime: string;
}

export function createMetrics(build: BuildInfo) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of UNFIT_DEFAULTS) registry.removeSingleMetric(name);
  if (!procSelfReadable()) {
    for (const name of PROC_DEFAULTS) registry.removeSingleMetric(name);
    // Resident memory can still be had without /proc; open fds cannot.
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers: [registry],
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  new Gauge({
    name: "printerfacts_build_info",
    help: "Always 1; the labels say which build of printerfacts is running on which runtime.",
    labelNames: ["version", "runtime"],
    registers: [registry],
  }).set({ version: build.version, runtime: build.runtime }, 1);

  const factsServed = new Counter({
    name: "printerfacts_facts_served_total",
    help: "Facts sent to clients (HEAD requests send none).",
    registers: [registry],
  });

  const labelNames = ["method", "route", "status"] as const;
  const requests = new Counter({ name: "http_requests_total", help: "HTTP requests answered, by method, route pattern and status.", labelNames, registers: [registry] });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to produce the response, in seconds, by method, route pattern and status.",
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  // One pair of bound children per label set, found by a string key: a handful of entries, since
  // the route is the pattern (/facts/:id; /* for unknown paths), never the raw path.
  const series = new Map<string, { count: Counter.Internal; time: Histogram.Internal<(typeof labelNames)[number]> }>();
  const seriesFor = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let found = series.get(key);
    if (found === undefined) {
      const labels = { method, route, status: String(status) };
      found = { count: requests.labels(labels), time: duration.labels(labels) };
      series.set(key, found);
    }
    return found;
  };

  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const method = METHODS.has(c.req.method) ? c.req.method : "other";
    // The last route that ran: the handler that answered, or the last middleware (/*) if none did.
    const s = seriesFor(method, routePath(c) || "/*", c.res.status);
    s.count.inc();
    s.time.observe(seconds);
  };

  const observe = (method: string, route: string, status: number, seconds: number) => {
    const s = seriesFor(METHODS.has(method) ? method : "other", route, status);
    s.count.inc();
    s.time.observe(seconds);
  };

  const serve = async (c: Context) => c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" });

  return {
    registry,
    /** Middleware that counts and times every request the app answers. */
    middleware,
    observe,
    factServed: () => factsServed.inc(),
    /** The GET /metrics handler, for the main app when there is no separate listener. */
    serve,
    /** The whole metrics-only listener's app: GET /metrics, 404 for anything else. */
    app: () => new Hono<AppEnv>().get("/metrics", serve),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

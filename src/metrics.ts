// Prometheus metrics through prom-client: requests by route and status, a latency histogram
// (both from @hono/prometheus), facts served, build info, and the process metrics.
import { prometheus } from "@hono/prometheus";
import { type Context, Hono } from "hono";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { AppEnv } from "./app.ts";

/**
 * prom-client's defaults that promtool rejects (gauges named *_total) and that Bun does not
 * fill in (they read Node's private handle lists and are always 0 there).
 */
const UNFIT_DEFAULTS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/** Seconds. The service answers in well under a millisecond; the top buckets catch stalls. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export interface BuildInfo {
  version: string;
  /** Runtime and its version, such as "bun 1.4.5". */
  runtime: string;
}

export function createMetrics(build: BuildInfo) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of UNFIT_DEFAULTS) registry.removeSingleMetric(name);

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

  // Labels: method, status, ok, and route, the route pattern (such as /facts/:id), never the
  // raw path: a path has unbounded values, a pattern a handful. Unknown paths count as /*.
  // (A variable, not a literal: @hono/prometheus passes buckets on but its type omits them.)
  const requestDuration = { help: "Time to produce the response, in seconds.", buckets: LATENCY_BUCKETS };
  const { registerMetrics } = prometheus({ registry, metricOptions: { requestDuration } });

  const serve = async (c: Context) => c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" });

  return {
    registry,
    /** Middleware that counts and times every request the app answers. */
    middleware: registerMetrics,
    factServed: () => factsServed.inc(),
    /** The GET /metrics handler, for the main app when there is no separate listener. */
    serve,
    /** The whole metrics-only listener's app: GET /metrics, 404 for anything else. */
    app: () => new Hono<AppEnv>().get("/metrics", serve),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

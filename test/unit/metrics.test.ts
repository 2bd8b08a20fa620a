// metrics.ts in process: the exposition text (histograms, escaping, methods), the app's observer
// counting each request under its route, and /metrics stating its length. That promtool accepts
// the text is test/metrics-endpoint.test.ts.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { createApp } from "../../src/http/app.ts";
import { facts } from "../../src/http/facts.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import { sample as sampleOf } from "../helpers/observability.ts";

test("requests are counted by method, route pattern and status; facts served by bodies sent", async () => {
  const metrics = createMetrics({ version: "1", runtime: "test" });
  const app = createApp({
    facts,
    observers: [metrics.observer],
    metrics: metrics.serve,
    onFactServed: metrics.factServed,
  });
  for (const path of ["/fact", "/fact", "/facts/1", "/facts/12345", "/nope"]) await app.request(path);
  await app.request("/fact", { method: "HEAD" });
  await app.request("/fact", { method: "POST" });
  const text = metrics.render();
  const total = (method: string, route: string, status: string) =>
    sampleOf(text, "http_requests_total", { method, route, status });
  expect(total("GET", "/fact", "200")).toBe(2);
  expect(total("HEAD", "/fact", "200")).toBe(1);
  expect(total("POST", "/fact", "405")).toBe(1);
  expect(total("GET", "/facts/:id", "200")).toBe(1);
  expect(total("GET", "/facts/:id", "404")).toBe(1);
  expect(total("GET", "/*", "404")).toBe(1);
  expect(sampleOf(text, "printerfacts_facts_served_total")).toBe(3);
  expect(text).not.toContain("12345");
});

test("GET /metrics states its Content-Length; HEAD keeps it without the body", async () => {
  const metrics = createMetrics({ version: "1", runtime: "test" });
  const app = createApp({ facts, metrics: metrics.serve });
  const get = await app.request("/metrics");
  const body = await get.text();
  expect(get.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(Number(get.headers.get("content-length"))).toBe(Buffer.byteLength(body));
  const head = await app.request("/metrics", { method: "HEAD" });
  expect(Number(head.headers.get("content-length"))).toBeGreaterThan(1000);
  expect(await head.text()).toBe("");
});

/** Every `name_bucket` sample of one series: [le, cumulative count], in the order written. */
function buckets(text: string, name: string, route: string): [string, number][] {
  const lines = text.split("\n").filter((l) => l.startsWith(`${name}_bucket{`) && l.includes(`route="${route}"`));
  return lines.map((l) => [l.match(/le="([^"]+)"/)?.[1] ?? "", Number(l.slice(l.lastIndexOf(" ") + 1))]);
}

describe("the exposition text", () => {
  test("a histogram's buckets are cumulative, and _count and _sum match what was observed", () => {
    const metrics = createMetrics({ version: "1", runtime: "test" });
    // 0.001 is a bound itself (le means <=); 2 and 30 are past the highest bound, 1 s.
    const seconds = [0.00005, 0.0001, 0.0003, 0.001, 0.001, 0.004, 0.2, 2, 30];
    for (const s of seconds) metrics.observe("GET", "/fact", 200, s);
    metrics.observe("GET", "/healthz", 200, 0.5);
    const text = metrics.render();

    const fact = buckets(text, "http_request_duration_seconds", "/fact");
    expect(fact.map(([le]) => le)).toEqual([
      "0.0001",
      "0.00025",
      "0.0005",
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "1",
      "+Inf",
    ]);
    for (const [le, count] of fact) {
      expect(count).toBe(seconds.filter((s) => le === "+Inf" || s <= Number(le)).length);
    }
    const labels = { method: "GET", route: "/fact", status: "200" };
    expect(sampleOf(text, "http_request_duration_seconds_count", labels)).toBe(seconds.length);
    expect(sampleOf(text, "http_requests_total", labels)).toBe(seconds.length);
    expect(sampleOf(text, "http_request_duration_seconds_sum", labels)).toBeCloseTo(
      seconds.reduce((a, b) => a + b),
      9,
    );
    // The other series counts only its own.
    expect(buckets(text, "http_request_duration_seconds", "/healthz").map(([, n]) => n)).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
    ]);
  });

  test("label values are escaped: backslash, double quote and newline (the version comes from package.json)", () => {
    const metrics = createMetrics({ version: 'x"y\\z\nw', runtime: "bun 1.4.5" });
    const text = metrics.render();
    expect(text).toContain('printerfacts_build_info{version="x\\"y\\\\z\\nw",runtime="bun 1.4.5"} 1\n');
  });

  test('a method outside the known ones is counted as "other", in one series whatever it was', () => {
    const metrics = createMetrics({ version: "1", runtime: "test" });
    for (const method of ["FOO", "BREW", "get", "other"]) metrics.observe(method, "/fact", 405, 0.0001);
    metrics.observe("PATCH", "/fact", 405, 0.0001);
    const text = metrics.render();
    expect(sampleOf(text, "http_requests_total", { method: "other", route: "/fact", status: "405" })).toBe(4);
    expect(sampleOf(text, "http_requests_total", { method: "PATCH", route: "/fact", status: "405" })).toBe(1);
    expect(text).not.toMatch(/FOO|BREW|"get"/);
  });

  test("before any request: the families are described, with no samples, and facts served is 0", () => {
    const text = createMetrics({ version: "1", runtime: "test" }).render();
    expect(text).toContain("# TYPE http_requests_total counter\n# HELP http_request_duration_seconds ");
    expect(text).toContain("# TYPE http_request_duration_seconds histogram\n");
    expect(text).toEndWith("# TYPE http_request_duration_seconds histogram\n");
    expect(sampleOf(text, "printerfacts_facts_served_total")).toBe(0);
  });

  test("the metrics-only app: GET /metrics with the exposition content type and no-store; 404 otherwise", async () => {
    const metrics = createMetrics({ version: "1", runtime: "test" });
    metrics.factServed();
    const res = await metrics.app().request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(sampleOf(await res.text(), "printerfacts_facts_served_total")).toBe(1);
    expect((await metrics.app().request("/fact")).status).toBe(404);
  });
});

test("log lines dropped: a counter per stream, there from the start, counting what the line writers dropped", async () => {
  const { droppedLines, lineWriter } = await import("../../src/observe/line-writer.ts");
  const metrics = createMetrics({ version: "1", runtime: "test" });
  const before = { ...droppedLines() };
  const text = metrics.render();
  expect(text).toContain("# TYPE printerfacts_log_lines_dropped_total counter\n");
  const dropped = (text: string, stream: string) => sampleOf(text, "printerfacts_log_lines_dropped_total", { stream });
  expect(dropped(text, "stdout")).toBe(before.stdout);
  expect(dropped(text, "stderr")).toBe(before.stderr);
  // A writer whose fd fails (read-only: EBADF) drops its lines.
  const fd = openSync("/dev/null", "r");
  try {
    const broken = lineWriter(fd, { stream: "stderr", onError: () => {}, onDropped: () => {} });
    broken.write("a\n");
    await broken.flush();
    broken.write("b\n");
    expect(dropped(metrics.render(), "stderr")).toBe(before.stderr + 2);
  } finally {
    closeSync(fd);
  }
});

// metrics.ts in process: the app's observer counts each request under its route, and /metrics
// states its length.
import { expect, test } from "bun:test";
import { openSync } from "node:fs";
import { createApp } from "../../src/http/app.ts";
import { facts } from "../../src/http/facts.ts";
import { createMetrics } from "../../src/observe/metrics.ts";

function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

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
  const total = (labels: string) => sample(text, `http_requests_total{${labels}}`);
  expect(total('method="GET",route="/fact",status="200"')).toBe(2);
  expect(total('method="HEAD",route="/fact",status="200"')).toBe(1);
  expect(total('method="POST",route="/fact",status="405"')).toBe(1);
  expect(total('method="GET",route="/facts/:id",status="200"')).toBe(1);
  expect(total('method="GET",route="/facts/:id",status="404"')).toBe(1);
  expect(total('method="GET",route="/*",status="404"')).toBe(1);
  expect(sample(text, "printerfacts_facts_served_total")).toBe(3);
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

test("log lines dropped: a counter per stream, there from the start, counting what the line writers dropped", async () => {
  const { droppedLines, lineWriter } = await import("../../src/observe/line-writer.ts");
  const metrics = createMetrics({ version: "1", runtime: "test" });
  const before = { ...droppedLines() };
  const text = metrics.render();
  expect(text).toContain("# TYPE printerfacts_log_lines_dropped_total counter\n");
  expect(sample(text, 'printerfacts_log_lines_dropped_total{stream="stdout"}')).toBe(before.stdout);
  expect(sample(text, 'printerfacts_log_lines_dropped_total{stream="stderr"}')).toBe(before.stderr);
  // A writer whose fd fails (read-only: EBADF) drops its lines.
  const broken = lineWriter(openSync("/dev/null", "r"), { stream: "stderr", onError: () => {}, onDropped: () => {} });
  broken.write("a\n");
  await broken.flush();
  broken.write("b\n");
  expect(sample(metrics.render(), 'printerfacts_log_lines_dropped_total{stream="stderr"}')).toBe(before.stderr + 2);
});

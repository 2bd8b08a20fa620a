// Prometheus metrics: valid exposition text (promtool) from every runtime, counters that follow
// the requests, and where /metrics is served: on the main listener, or only on its own. The text
// itself (histograms, escaping, methods) is test/unit/metrics.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { createMetrics } from "../src/observe/metrics.ts";
import { promtoolCheck, sample, stop } from "./helpers/observability.ts";
import {
  BINARY,
  curl,
  ENTRIES,
  type Entry,
  fetchUnix,
  freePort,
  startListening,
  startService,
  tempDir,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const socketPath = (name: string) => dir.socketPath(name);

describe("the exposition text (its content: test/unit/metrics.test.ts)", () => {
  test("promtool accepts it: histograms, escaped label values, and the families before any request", async () => {
    const observed = createMetrics({ version: "1", runtime: "test" });
    for (const s of [0.00005, 0.0001, 0.0003, 0.001, 0.001, 0.004, 0.2, 2, 30])
      observed.observe("GET", "/fact", 200, s);
    observed.observe("GET", "/healthz", 200, 0.5);
    const escaped = createMetrics({ version: 'x"y\\z\nw', runtime: "bun 1.4.5" });
    const empty = createMetrics({ version: "1", runtime: "test" });
    for (const metrics of [observed, escaped, empty])
      expect(await promtoolCheck(metrics.render())).toEqual({ exitCode: 0, output: "" });
  });
});

/** Read from /proc/self, which Deno allows only with --allow-all (scripts/deno-run does not ask for it). */
const FROM_PROC = ["process_virtual_memory_bytes", "process_heap_bytes", "process_open_fds", "process_max_fds"];

describe.each(Object.keys(ENTRIES) as Entry[])("/metrics under %s", (entry) => {
  test("promtool accepts it; process metrics that cannot be read are absent, never 0", async () => {
    const sock = socketPath("runtime");
    const proc = await startListening(ENTRIES[entry], { SOCKPATH: sock });
    await curl("http://x/fact", { socket: sock });
    const res = await curl("http://x/metrics", { socket: sock });
    expect(await stop(proc)).toBe(0);

    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const check = await promtoolCheck(res.body);
    expect(check.output).toBe("");
    expect(check.exitCode).toBe(0);
    const m = res.body;
    expect(sample(m, "http_requests_total", { method: "GET", route: "/fact", status: "200" })).toBe(1);
    expect(sample(m, "printerfacts_facts_served_total")).toBe(1);
    // A young process may truly have spent 0 s in the kernel (or in user code): those two may be 0.
    for (const name of ["process_cpu_user_seconds_total", "process_cpu_system_seconds_total"])
      expect(sample(m, name)).toBeGreaterThanOrEqual(0);
    for (const name of ["process_cpu_seconds_total", "process_start_time_seconds"])
      expect(sample(m, name)).toBeGreaterThan(0);
    expect(sample(m, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(sample(m, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(m).toMatch(/^nodejs_version_info\{version="v\d+\.\d+\.\d+",major="\d+",minor="\d+",patch="\d+"\} 1$/m);
    for (const name of FROM_PROC) {
      if (entry.startsWith("deno")) expect(m).not.toContain(`\n${name} `);
      else expect(sample(m, name)).toBeGreaterThan(0);
    }
    expect(m).not.toMatch(/^process_(?!cpu_(user|system)_)\w+ 0$/m);
  });
});

describe("/metrics on the main listener (no METRICS_SOCKPATH or METRICS_PORT)", () => {
  test("is Prometheus text that promtool accepts, with the agreed metrics", async () => {
    const sock = socketPath("main");
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    await fetchUnix(sock, "/fact").then((r) => r.text());
    const res = await curl("http://x/metrics", { socket: sock });
    expect(await stop(proc)).toBe(0);

    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const check = await promtoolCheck(res.body);
    expect(check.output).toBe("");
    expect(check.exitCode).toBe(0);

    const m = res.body;
    expect(sample(m, "printerfacts_build_info", { version: pkg.version })).toBe(1);
    expect(m).toMatch(/^printerfacts_build_info\{version="[^"]+",runtime="bun \d+\.\d+\.\d+"\} 1$/m);
    expect(sample(m, "http_requests_total", { method: "GET", route: "/fact", status: "200" })).toBe(1);
    expect(sample(m, "http_request_duration_seconds_count", { route: "/fact", status: "200" })).toBe(1);
    expect(sample(m, "http_request_duration_seconds_bucket", { route: "/fact", le: "+Inf" })).toBe(1);
    expect(sample(m, "printerfacts_facts_served_total")).toBe(1);
    expect(sample(m, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(sample(m, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sample(m, "process_open_fds")).toBeGreaterThan(2);
    const startTime = sample(m, "process_start_time_seconds") ?? 0;
    expect(Math.abs(startTime - Date.now() / 1000)).toBeLessThan(3600);
  });

  test("counters move with the requests, labelled by route pattern, never by raw path", async () => {
    const sock = socketPath("count");
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    const scrape = () => fetchUnix(sock, "/metrics").then((r) => r.text());
    const before = await scrape();
    for (const path of ["/fact", "/fact", "/fact", "/facts/2", "/facts/3", "/facts/99999", "/", "/no/such/thing"]) {
      await fetchUnix(sock, path).then((r) => r.text());
    }
    await fetchUnix(sock, "/fact", { method: "HEAD" });
    const after = await scrape();
    expect(await stop(proc)).toBe(0);

    const delta = (name: string, labels: Record<string, string> = {}) =>
      (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    expect(delta("http_requests_total", { method: "GET", route: "/fact", status: "200" })).toBe(3);
    expect(delta("http_requests_total", { method: "HEAD", route: "/fact", status: "200" })).toBe(1);
    expect(delta("http_requests_total", { method: "GET", route: "/facts/:id", status: "200" })).toBe(2);
    expect(delta("http_requests_total", { method: "GET", route: "/facts/:id", status: "404" })).toBe(1);
    expect(delta("http_requests_total", { method: "GET", route: "/*", status: "404" })).toBe(1);
    expect(delta("http_request_duration_seconds_count", { method: "GET", route: "/fact", status: "200" })).toBe(3);
    // /fact three times, /facts/2 and /facts/3, and the page; not the 404, not the HEAD.
    expect(delta("printerfacts_facts_served_total")).toBe(6);
    expect(after).not.toContain("/facts/2");
    expect(after).not.toContain("/no/such/thing");
  });
});

describe("a metrics-only listener", () => {
  test("METRICS_SOCKPATH: metrics there and only there; shutdown closes both and removes both sockets", async () => {
    const sock = socketPath("public");
    const metricsSock = socketPath("metrics");
    const proc = await startListening([BINARY], {
      SOCKPATH: sock,
      METRICS_SOCKPATH: metricsSock,
      METRICS_SOCKMODE: "0600",
    });
    expect(proc.stderr()).toContain(`serving /metrics only on unix:${metricsSock} (mode 0600)`);
    expect(statSync(metricsSock).mode & 0o777).toBe(0o600);

    const scraped = await curl("http://x/metrics", { socket: metricsSock });
    expect(scraped.status).toBe(200);
    expect((await promtoolCheck(scraped.body)).exitCode).toBe(0);
    // HEAD states a length (the text changes between scrapes, so not necessarily GET's), never 0.
    const head = await curl("http://x/metrics", { socket: metricsSock, args: ["-I"] });
    expect(Number(head.headers["content-length"])).toBeGreaterThan(1000);
    expect((await curl("http://x/fact", { socket: metricsSock })).status).toBe(404);
    expect((await curl("http://x/metrics", { socket: sock })).status).toBe(404);
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);

    expect(await stop(proc)).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(metricsSock)).toBe(false);
    expect(proc.stderr()).toContain(`removed socket ${metricsSock}`);
  });

  test("METRICS_PORT: metrics on 127.0.0.1 only; the public socket answers /metrics with 404; both close on SIGTERM", async () => {
    const sock = socketPath("public");
    const port = await freePort();
    const proc = await startListening([BINARY], { SOCKPATH: sock, METRICS_PORT: String(port) });
    expect(proc.stderr()).toContain(`serving /metrics only on http://127.0.0.1:${port}`);
    const res = await curl(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(sample(res.body, "printerfacts_build_info", { version: pkg.version })).toBe(1);
    expect((await curl(`http://[::1]:${port}/metrics`)).exitCode).toBe(7); // not bound on ::1
    expect((await curl("http://x/metrics", { socket: sock })).status).toBe(404);

    expect(await stop(proc)).toBe(0);
    expect((await curl(`http://127.0.0.1:${port}/metrics`)).exitCode).toBe(7); // connection refused
    expect(existsSync(sock)).toBe(false);
  });

  test("METRICS_SOCKPATH follows the socket safety rules: a regular file there is refused and kept, nothing is left bound", async () => {
    const sock = socketPath("public");
    const metricsSock = join(dir.path, "metrics-is-a-file");
    writeFileSync(metricsSock, "keep me");
    const proc = startService([BINARY], { SOCKPATH: sock, METRICS_SOCKPATH: metricsSock });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`${metricsSock} exists and is a regular file, not a socket; refusing to touch it`);
    expect(readFileSync(metricsSock, "utf8")).toBe("keep me");
    expect(existsSync(sock)).toBe(false);
  });

  test("a live main socket makes the start fail without leaving the metrics socket behind", async () => {
    const sock = socketPath("public");
    const first = await startListening([BINARY], { SOCKPATH: sock });
    const metricsSock = socketPath("metrics");
    const second = startService([BINARY], { SOCKPATH: sock, METRICS_SOCKPATH: metricsSock });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`another process is serving on ${sock}`);
    expect(existsSync(metricsSock)).toBe(false);
    expect(await stop(first)).toBe(0);
  });
});

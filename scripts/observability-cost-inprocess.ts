// What the access log and the metrics add to one request, without a network or a load tool in
// the way: microseconds per GET /fact through app.fetch, for the app with no observers, with
// each, and with both. Noisy neighbours disturb this far less than a load test; the best of
// ROUNDS rounds is printed.   bun scripts/observability-cost-inprocess.ts  (ROUNDS=5 N=100000)
import { openSync } from "node:fs";
import { accessLog } from "../src/observe/access-log.ts";
import { type AppOptions, createApp } from "../src/http/app.ts";
import { clientAddress } from "../src/observe/client-address.ts";
import { facts } from "../src/http/facts.ts";
import { lineWriter } from "../src/observe/line-writer.ts";
import { createMetrics } from "../src/observe/metrics.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 100_000);

const metrics = createMetrics({ version: "bench", runtime: "bun" });
const devNull = lineWriter(openSync("/dev/null", "w"), {
  stream: "stdout",
  onError: (err) => {
    throw err;
  },
  onDropped: () => {},
});
const client = await clientAddress([]);
const log = (format: "text" | "json", on: boolean) =>
  accessLog({ format, clientAddress: client, writer: devNull, isEnabled: () => on });

const variants: Record<string, AppOptions["observers"]> = {
  "no observers": [],
  "access log, LOG_LEVEL=off": [log("text", false)],
  "access log, text": [log("text", true)],
  "access log, json": [log("json", true)],
  metrics: [metrics.observer],
  "metrics + json log": [log("json", true), metrics.observer],
};

const conn = { transport: "tcp" as const, remoteAddress: "127.0.0.1" };
const best: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, observers] of Object.entries(variants)) {
    const app = createApp({ facts, observers, onFactServed: metrics.factServed });
    const started = performance.now();
    for (let i = 0; i < N; i++) await (await app.fetch(new Request("http://127.0.0.1/fact"), conn)).arrayBuffer();
    const us = ((performance.now() - started) * 1000) / N;
    best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, us);
  }
}
const base = best["no observers"];
console.log(`GET /fact through app.fetch, best of ${ROUNDS} rounds of ${N}`);
for (const [name, us] of Object.entries(best))
  console.log(`${name.padEnd(28)} ${us.toFixed(2)} µs  (+${(us - base).toFixed(2)})`);

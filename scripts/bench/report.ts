// Turns the rounds into medians, ratios and the speed targets, and renders BENCHMARKS.md.

export interface VariantInfo {
  key: string;
  label: string;
}

/** One variant's figures in one round. */
export interface Sample {
  rps: number;
  /** Latency in ms. */
  p50: number;
  p99: number;
  errors: number;
  /** CPU in cores (1.00 = one core busy) over the measurement. */
  serverCpu: number;
  /** Server CPU time per request, in µs: less disturbed by other work on the machine than req/s. */
  serverUsPerRequest: number;
  clientCpu: number;
  /** Busy CPU on the machine that was neither the servers nor the load client. */
  otherCpu: number;
  /** MB, sampled half-way through. */
  rssLoad: number;
}

export type Round = Map<string, Sample>;

export interface Summary extends VariantInfo {
  rps: number;
  /** Median over rounds of this variant's req/s divided by the baseline's in the same round. */
  ratio: number;
  p50: number;
  p99: number;
  errors: number;
  serverCpu: number;
  serverUsPerRequest: number;
  /** Median over rounds of the baseline's server µs per request over this variant's. */
  cpuRatio: number;
  clientCpu: number;
  otherCpu: number;
  rssIdle: number;
  rssLoad: number;
  rssEnd: number;
  served: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** a's req/s over b's, round by round: drift between rounds cancels. */
function pairedRatios(rounds: Round[], a: string, b: string): number[] {
  return rounds.flatMap((r) => {
    const x = r.get(a);
    const y = r.get(b);
    return x && y ? [x.rps / y.rps] : [];
  });
}

/** Median over rounds of a's req/s over b's in the same round. */
export function pairedRatio(rounds: Round[], a: string, b: string): number {
  return median(pairedRatios(rounds, a, b));
}

/**
 * A distribution-free interval for the median of values: the k-th smallest and k-th largest, with
 * k the largest such that a binomial(n, ½) falls below k at most 2.5% of the time (about 95%).
 */
export function medianInterval(values: number[]): [number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  let k = 1;
  for (let below = 0.5 ** n, p = 0.5 ** n; k < n >> 1; ) {
    p = (p * (n - k + 1)) / k; // P(X = k)
    if (below + p > 0.025) break;
    below += p;
    k++;
  }
  return [sorted[k - 1], sorted[n - k]];
}

export function summarise(
  variants: VariantInfo[],
  rounds: Round[],
  memory: { idle: Map<string, number>; end: Map<string, number>; served: Map<string, number> },
): Summary[] {
  return variants.map(({ key, label }) => {
    const samples = rounds.flatMap((r) => r.get(key) ?? []);
    const pick = (f: (s: Sample) => number) => median(samples.map(f));
    return {
      key,
      label,
      rps: pick((s) => s.rps),
      ratio: pairedRatio(rounds, key, "baseline"),
      p50: pick((s) => s.p50),
      p99: pick((s) => s.p99),
      errors: samples.reduce((sum, s) => sum + s.errors, 0),
      serverCpu: pick((s) => s.serverCpu),
      serverUsPerRequest: pick((s) => s.serverUsPerRequest),
      cpuRatio: median(
        rounds.flatMap((r) => {
          const own = r.get(key);
          const base = r.get("baseline");
          return own && base ? [base.serverUsPerRequest / own.serverUsPerRequest] : [];
        }),
      ),
      clientCpu: pick((s) => s.clientCpu),
      otherCpu: pick((s) => s.otherCpu),
      rssIdle: memory.idle.get(key) ?? Number.NaN,
      rssLoad: Math.max(...samples.map((s) => s.rssLoad)),
      rssEnd: memory.end.get(key) ?? Number.NaN,
      served: memory.served.get(key) ?? 0,
    };
  });
}

export interface ReportInput {
  command: string;
  date: string;
  commit: string;
  machine: { host: string; cpu: string; cores: number; memoryGiB: number; kernel: string; load: string };
  versions: Record<string, string>;
  settings: {
    seconds: number;
    rounds: number;
    processes: number;
    connections: number;
    warmup: number;
    pinned: boolean;
    rssRequests: number;
    startupRuns: number;
    /** Fewer or shorter rounds than a full run (scripts/bench/settings.ts' defaults). */
    quick: boolean;
  };
  /** printerfacts' production settings, and the same with the access log off. */
  prod: { env: string; nolog: string };
  summaries: Summary[];
  rounds: Round[];
  order: string[];
  absent: string[];
  growth?: { first: number; firstRss: number; all: number; allRss: number; errors: number };
  startups: number[];
  /**
   * RSS and its private part (RssAnon + RssShmem) at idle, MB, of dist/printerfacts and of the
   * baseline compiled the same way (the runtime's own): medians of fresh processes of each.
   */
  binaryIdle: { rss: number; private: number; runs: number };
  baselineIdle: { rss: number; private: number; runs: number };
  /** The same for the build before (BENCH_BEFORE), when there is one. */
  beforeIdle?: { rss: number; private: number; runs: number };
  binaryBytes: number;
  notes: string[];
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const count = (n: number) => (n >= 1e6 ? `${f1(n / 1e6)}M` : n >= 1e3 ? `${f0(n / 1e3)}k` : String(n));
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

interface Target {
  what: string;
  goal: string;
  measured: string;
  met: boolean | undefined;
}

function targets(input: ReportInput): Target[] {
  const has = (key: string) => input.summaries.some((s) => s.key === key);
  const ratio = (a: string, b: string) => (has(a) && has(b) ? pairedRatio(input.rounds, a, b) : Number.NaN);
  const list: Target[] = [];
  const atLeast = (what: string, goal: number, value: number, unit = "×") =>
    // Three decimals, so a ratio just under its goal never prints as the goal itself.
    list.push({
      what,
      goal: `≥ ${goal}${unit}`,
      measured: Number.isFinite(value) ? `${value.toFixed(3)}${unit}` : "not measured",
      met: Number.isFinite(value) ? value >= goal : undefined,
    });
  atLeast(
    "dist/printerfacts on a Unix socket (production settings) vs Bun.serve doing the same work",
    0.9,
    ratio("binary-unix", "baseline"),
  );
  atLeast(
    "printerfacts on Deno (npm run start:deno) vs Deno.serve doing the same work",
    0.9,
    ratio("deno", "ceiling-deno"),
  );
  for (const [key, name] of [
    ["go", "Go net/http"],
    ["fastify", "Fastify on Node"],
    ["elysia", "Elysia on Bun"],
  ]) {
    atLeast(`dist/printerfacts vs ${name} doing the same work (ahead of it)`, 1, ratio("binary-unix", key));
  }
  // Two builds that are the same read on either side of 1, so "no slower" means not measurably
  // slower: the ratio's interval reaches 1.
  for (const [now, before, name] of [
    ["binary-unix", "before-binary", "dist/printerfacts"],
    ["node", "before-node", "Node"],
    ["deno", "before-deno", "Deno"],
  ]) {
    if (!has(now) || !has(before)) continue;
    const ratios = pairedRatios(input.rounds, now, before);
    const value = median(ratios);
    const [low, high] = medianInterval(ratios);
    list.push({
      what: `${name}: no slower than the build before (BENCH_BEFORE)`,
      goal: "≥ 1×, or 1× within the 95% interval",
      measured: `${value.toFixed(3)}× (${low.toFixed(2)}–${high.toFixed(2)})`,
      met: high >= 1,
    });
  }
  atLeast("Unix socket vs TCP, direct (dist/printerfacts)", 1.25, ratio("binary-unix", "binary-tcp"));
  atLeast("nginx → Unix socket vs nginx → TCP", 1.0, ratio("nginx-unix", "nginx-tcp"));
  const logRatio = ratio("binary-unix", "binary-unix-nolog");
  const logCost = (1 - logRatio) * 100;
  const ceilingLogCost = (1 - ratio("baseline", "ceiling-nolog")) * 100;
  const ceilingsOwn = Number.isFinite(ceilingLogCost)
    ? ` (the Bun ceiling's own log line: ${f1(ceilingLogCost)}%)`
    : "";
  list.push({
    what: "throughput cost of the access log",
    goal: "≤ 5%",
    measured: Number.isFinite(logCost) ? `${f1(logCost)}%${ceilingsOwn}` : "not measured",
    met: Number.isFinite(logCost) ? logCost <= 5 : undefined,
  });
  const startup = median(input.startups);
  list.push({
    what: `binary start to first response (median of ${input.startups.length})`,
    goal: "≤ 40 ms",
    measured: `${f1(startup)} ms`,
    met: startup <= 40,
  });
  const idle = input.binaryIdle.rss;
  const own = ` (${f1(input.binaryIdle.private)} MB its own; the rest is file pages, mostly the executable's, shared)`;
  const floor = input.baselineIdle;
  const measured = Number.isFinite(idle) && Number.isFinite(floor.rss);
  const over = (rss: number) => `${rss >= floor.rss ? "+" : ""}${f1(rss - floor.rss)} MB`;
  const before = input.beforeIdle ? `; the build before, measured the same way: ${over(input.beforeIdle.rss)}` : "";
  list.push({
    what: `idle RSS of dist/printerfacts vs the Bun ceiling compiled the same way (each started from a fresh copy, median of ${input.binaryIdle.runs})`,
    goal: "within 5 MB",
    measured: measured
      ? `${f1(idle)} MB${own} against ${f1(floor.rss)} MB (${f1(floor.private)} MB its own): ${over(idle)}${before}`
      : "not measured",
    met: measured ? idle - floor.rss <= 5 : undefined,
  });
  const g = input.growth;
  const growth = g ? (g.allRss / g.firstRss - 1) * 100 : Number.NaN;
  list.push({
    what: g ? `RSS after ${count(g.all)} requests vs after ${count(g.first)}` : "RSS growth",
    goal: "within 10%",
    measured: g ? `${f1(g.firstRss)} → ${f1(g.allRss)} MB (${growth >= 0 ? "+" : ""}${f1(growth)}%)` : "not measured",
    met: g ? Math.abs(growth) <= 10 : undefined,
  });
  return list;
}

/** Observations computed from this run's figures, so they stay true when it is run again. */
function reading(input: ReportInput): string[] {
  const find = (key: string) => input.summaries.find((v) => v.key === key);
  const out: string[] = ["What the figures say:", ""];
  const binary = find("binary-unix");
  const bare = find("bare-bun");
  if (binary) {
    out.push(
      `- dist/printerfacts reaches ${f2(binary.ratio)}× Bun.serve doing the same work (${f2(binary.cpuRatio)}× by CPU)${bare ? `; that work itself (headers, request id, log line, metrics) costs the raw runtime ${f2(1 - 1 / bare.ratio)} of its rate: the bare Bun.serve row is ${f2(bare.ratio)}× the ceiling` : ""}.`,
    );
  }
  const deno = find("deno");
  const denoCeiling = find("ceiling-deno");
  if (deno && denoCeiling)
    out.push(
      `- On Deno, printerfacts reaches ${f2(pairedRatio(input.rounds, "deno", "ceiling-deno"))}× Deno.serve doing the same work.`,
    );
  const peers = ["go", "hyper", "fastify", "elysia", "nginx-return"].flatMap((key) => find(key) ?? []);
  if (binary && peers.length > 0) {
    out.push(
      `- Against the peers (dist/printerfacts over each, same round): ${peers.map((p) => `${p.label} ${f2(pairedRatio(input.rounds, "binary-unix", p.key))}×`).join(", ")}.`,
    );
  }
  if (find("nginx-unix") && find("nginx-hyper"))
    out.push(
      `- Behind nginx on a Unix socket, the production path, dist/printerfacts reaches ${f2(pairedRatio(input.rounds, "nginx-unix", "nginx-hyper"))}× the hyper peer (the original's stack) behind the same nginx.`,
    );
  const busy = input.summaries.filter((v) => v.clientCpu > 0.8);
  out.push(
    busy.length === 0
      ? `- The load client never used more than ${f2(Math.max(...input.summaries.map((v) => v.clientCpu)))} of its core: it was not the bottleneck.`
      : `- The load client was near a full core for ${busy.map((v) => v.label).join(", ")}: those rows are lower bounds.`,
  );
  const noisy = input.summaries.filter((v) => v.otherCpu > 0.3);
  if (noisy.length > 0)
    out.push(
      `- Other work on the machine took more than 0.3 of a core, in the median round, while measuring ${noisy.length} of ${input.summaries.length} variants: compare ratios, not absolute req/s.`,
    );
  return out;
}

export function renderReport(input: ReportInput): string {
  const { settings: s, machine: m } = input;
  const lines: string[] = [];
  lines.push("# Benchmarks", "");
  lines.push(
    `Written by \`npm run bench\` (scripts/bench.ts); ${s.quick ? "**a quick run**, fewer or shorter rounds than the default" : "a full run with the default settings"}.`,
    "Every variant ran in the same run on the same machine, alternating round by round (A B C … then … C B A), so drift cancels out of the ratios.",
    "",
  );
  lines.push(`- **Command:** \`${input.command}\``);
  lines.push(`- **Date:** ${input.date}; **commit** ${input.commit}`);
  lines.push(
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${f0(m.memoryGiB)} GiB, ${m.kernel}; load average at the end ${m.load}`,
  );
  lines.push(
    `- **Software:** ${Object.entries(input.versions)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k} ${v.replace(/^v/, "")}`)
      .join(", ")}`,
  );
  lines.push(
    `- **Load:** our C client (scripts/loadgen.c), ${s.connections} keep-alive connections, one request in flight on each (no pipelining), \`GET /fact\`; ${s.rounds} rounds of ${s.seconds} s per variant, split among ${Math.min(s.processes, s.rounds)} fresh processes of each server (two processes of one build can differ by 10% for their whole life), each warmed up for ${s.warmup} s; ${s.pinned ? "servers pinned to core 0 and the client to core 1 (taskset)" : "no CPU pinning"}.`,
  );
  lines.push(
    `- **Production settings** for dist/printerfacts, bun src/main.ts, Node and Deno: ${input.prod.env}; access log on (to /dev/null); \`/metrics\` on; access log off: ${input.prod.nolog}.`,
  );
  lines.push("");
  lines.push(
    "The machine has 2 cores and is shared with other work, so absolute figures are noisy; the *others* column is the CPU the rest of the machine used during each measurement (in cores). Trust the ratios, which pair each variant with the baseline measured moments apart in the same round, more than the absolute req/s.",
    "",
  );
  if (input.absent.length > 0) {
    lines.push("Variants absent from this run (they are included automatically once they exist):", "");
    for (const a of input.absent) lines.push(`- ${a}`);
    lines.push("");
  }

  lines.push("## Throughput and latency", "");
  lines.push(
    row([
      "variant",
      "req/s (median)",
      "× baseline",
      "p50 ms",
      "p99 ms",
      "errors",
      "server CPU",
      "server µs/req",
      "× baseline by CPU",
      "client CPU",
      "others",
      "RSS idle MB",
      "RSS load MB",
      "RSS end MB",
      "requests served",
    ]),
  );
  lines.push(row(Array(15).fill("---")));
  for (const v of input.summaries) {
    lines.push(
      row([
        v.label,
        f0(v.rps),
        f2(v.ratio),
        f2(v.p50),
        f2(v.p99),
        v.errors,
        f2(v.serverCpu),
        f1(v.serverUsPerRequest),
        f2(v.cpuRatio),
        f2(v.clientCpu),
        f2(v.otherCpu),
        f1(v.rssIdle),
        f1(v.rssLoad),
        f1(v.rssEnd),
        count(v.served),
      ]),
    );
  }
  lines.push("");
  lines.push(
    "CPU is in cores (1.00 = one core busy for the whole measurement). *server CPU* counts every process that answered: for the nginx rows, nginx and the server behind it together. *server µs/req* is that CPU time per request, and *× baseline by CPU* the baseline's µs/req over the variant's (paired per round): a second view of the ratio that other work on the machine disturbs less than req/s does. RSS is the process that holds the connections (for nginx rows, nginx's worker); *RSS end* is after all the rounds, with *requests served* requests behind it (by the last process). A client CPU well under 1.00 means the client was not the bottleneck.",
    "",
  );

  lines.push("## Targets", "");
  lines.push(row(["target", "goal", "measured", "met"]));
  lines.push(row(["---", "---", "---", "---"]));
  for (const t of targets(input))
    lines.push(row([t.what, t.goal, t.measured, t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"]));
  lines.push("");

  lines.push(...reading(input), "");

  if (input.growth) {
    const g = input.growth;
    lines.push(
      `Memory growth: a fresh dist/printerfacts on a Unix socket (production settings) served ${count(g.first)} requests, then ${count(g.all - g.first)} more, RSS read after a 1 s pause each time (${g.errors} errors).`,
      "",
    );
  }
  lines.push(
    `Start to first response: from fork to the first complete \`GET /healthz\` answer over the socket, ${input.startups.length} runs: ${input.startups.map(f1).join(", ")} ms.`,
    "",
  );
  lines.push(
    `Binary size: dist/printerfacts is ${f1(input.binaryBytes / 1e6)} MB (the Bun runtime is most of it).`,
    "",
  );

  lines.push("## Raw figures: req/s per round", "");
  lines.push(row(["variant", ...input.rounds.map((_, i) => `round ${i + 1}${i % 2 ? " ↑" : " ↓"}`)]));
  lines.push(row(Array(input.rounds.length + 1).fill("---")));
  for (const key of input.order) {
    const label = input.summaries.find((v) => v.key === key)?.label ?? key;
    lines.push(row([label, ...input.rounds.map((r) => f0(r.get(key)?.rps ?? Number.NaN))]));
  }
  lines.push("", "↓ ran top to bottom, ↑ bottom to top.", "");
  for (const n of input.notes) lines.push(n, "");
  return `${lines.join("\n").trimEnd()}\n`;
}

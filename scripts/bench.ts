#!/usr/bin/env bun
// npm run bench: every row side by side in one run, the same load at each, alternating them round
// by round (A B C … then … C B A) so drift on a shared machine cancels; prints the table with
// ratios to the baseline and writes it to BENCHMARKS.md. The baseline is the equal-work ceiling: a
// raw Bun.serve doing exactly what printerfacts does for GET /fact (scripts/bench/work.ts). The
// rows are the table in scripts/bench/contestants.ts, started by one loop here; the settings are
// the table in scripts/bench/settings.ts (bun scripts/bench.ts --help lists them).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, hostname, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { createApp } from "../src/http/app.ts";
import { facts as factList } from "../src/http/facts.ts";
import {
  CONTESTANTS,
  type Contestant,
  type Host,
  isNginxRow,
  labelOf,
  nginxConf,
  type ServerRow,
} from "./bench/contestants.ts";
import { cpuSeconds, descendantsOf, machineBusySeconds, privateMB, rssMB } from "./bench/proc.ts";
import { median, type Round, renderReport, summarise, type VariantInfo } from "./bench/report.ts";
import { sameWorkProblems } from "./bench/same-work.ts";
import { cleanEnv, freePort, Instance, type InstanceSpec, killPids, request, type Target } from "./bench/servers.ts";
import { command, isQuick, readSettings, usage } from "./bench/settings.ts";

if (process.argv.includes("--help")) {
  console.log(usage());
  process.exit(0);
}
const ROOT = resolve(import.meta.dir, "..");
const BIN = join(ROOT, "node_modules", ".bin");
const env = process.env;
const S = readSettings(env);
const pin = S.BENCH_PIN && cpus().length >= 2 && which("taskset") !== undefined;
const SERVER_PIN = pin ? ["taskset", "-c", "0"] : [];
const CLIENT_PIN = pin ? ["taskset", "-c", "1"] : [];
const only = S.BENCH_ONLY?.split(",").map((s) => s.trim());

function which(cmd: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * The deno executable itself. npm's node_modules/.bin/deno may be a node wrapper that runs deno as
 * its child: its pid is not the server's (no CPU would be counted) and deno outlives its SIGTERM.
 */
function nativeDeno(): string | undefined {
  const dir = join(ROOT, "node_modules", "deno");
  if (existsSync(join(dir, "deno"))) return join(dir, "deno");
  if (existsSync(join(dir, "install_api.cjs"))) {
    const script = "process.stdout.write(require(process.argv[1]).runInstall())";
    const found = spawnSync("node", ["-e", script, join(dir, "install_api.cjs")], { encoding: "utf8" });
    if (found.status === 0 && found.stdout) return found.stdout;
  }
  return which("deno");
}

function run(cmd: string[], what: string) {
  const result = spawnSync(cmd[0], cmd.slice(1), {
    cwd: ROOT,
    encoding: "utf8",
    env: cleanEnv({ PATH: `${BIN}:${env.PATH}` }),
  });
  if (result.status !== 0) throw new Error(`${what} failed (${cmd.join(" ")}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const oneLine = (err: unknown) =>
  String((err as Error).message)
    .replace(/\s+/g, " ")
    .slice(0, 300);

// --- build -------------------------------------------------------------------------------------

const buildDir = join(ROOT, ".bench");
mkdirSync(buildDir, { recursive: true });
const loadgen = join(buildDir, "loadgen");
const loadgenSource = join(ROOT, "scripts", "loadgen.c");
if (!existsSync(loadgen) || statSync(loadgen).mtimeMs < statSync(loadgenSource).mtimeMs) {
  run([env.CC ?? "cc", "-O2", "-Wall", "-o", loadgen, loadgenSource], "building the load client");
}
const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
if (S.BENCH_BUILD) {
  console.log("building dist/printerfacts …");
  run(["npm", "run", "build"], "npm run build");
  run(["npm", "run", "build:node"], "npm run build:node");
}
const binary = join(ROOT, "dist", "printerfacts");
if (!existsSync(binary)) throw new Error("dist/printerfacts is missing: run npm run build");
const bun = join(BIN, "bun");
const deno = nativeDeno();
const nginx = which("nginx") ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : undefined);
// The Bun ceiling compiled as the build compiles printerfacts, for the idle memory the runtime
// itself takes with the same work loaded.
const buildFlags = scripts.build
  .split(/\s+/)
  .filter((arg) => arg.startsWith("--") && !["--compile", "--outfile"].includes(arg));
const compiledBaseline = join(buildDir, "ceiling");
const ceilingScript = join(ROOT, "scripts", "bench", "ceiling.ts");
run([bun, "build", ceilingScript, "--compile", ...buildFlags, "--outfile", compiledBaseline], "compiling the ceiling");

// What every ceiling and peer serves: /fact's headers as the app sends them (but the per-response
// ones) and the facts. Written once; each server reads it at start (WORK_FILE).
const workFile = join(buildDir, "work.json");
{
  const sample = await createApp({ facts: factList }).request("/fact");
  const headers = [...sample.headers].filter(([name]) => !["x-request-id", "content-length"].includes(name));
  writeFileSync(workFile, JSON.stringify({ headers, facts: factList.map((f) => f.text) }));
}

// --- run directory, sockets, nginx's user -----------------------------------------------------------

const runDir = mkdtempSync(join(tmpdir(), "printerfacts-bench-"));
const isRoot = process.getuid?.() === 0;
// As root, nginx's workers drop to www-data; give them the socket by group, as deployed.
const nginxGroup = isRoot && spawnSync("getent", ["group", "www-data"]).status === 0 ? "www-data" : undefined;
if (nginxGroup) {
  spawnSync("chgrp", [nginxGroup, runDir]);
  chmodSync(runDir, 0o750);
}
const sock = (name: string) => join(runDir, `${name}.sock`);
const unix = (path: string): Target => ({ kind: "unix", path });
const tcp = (port: number): Target => ({ kind: "tcp", port });

// Production settings, and the same with the access log off (LOG_LEVEL=warn drops the info lines).
const prodEnv = { LOG_FORMAT: "json" };
const nologEnv = { ...prodEnv, LOG_LEVEL: "warn" };
const host: Host = {
  root: ROOT,
  bin: BIN,
  bun,
  deno,
  binary,
  buildDir,
  workFile,
  nginx,
  settings: S,
  prodEnv,
  nologEnv,
  groupEnv: nginxGroup ? { SOCKGROUP: nginxGroup } : {},
  scripts,
  run,
  which,
};

const running: Instance[] = [];
/** Load clients running now (a start-up run's loadgen starts a binary of its own). */
const clients = new Set<Subprocess>();
async function start(spec: InstanceSpec): Promise<Instance> {
  const instance = new Instance(spec, SERVER_PIN, join(runDir, `${spec.name.replace(/\W+/g, "-")}.stderr`));
  running.push(instance);
  await instance.waitReady();
  return instance;
}
async function stopAll() {
  await Promise.all(running.map((i) => i.stop()));
  running.length = 0;
}
let cleaned = false;
async function cleanUp() {
  if (cleaned) return;
  cleaned = true;
  await stopAll();
  if (!S.BENCH_KEEP) rmSync(runDir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void cleanUp().then(() => process.exit(signal === "SIGINT" ? 130 : 143)));
}
// However the run ends (an error thrown, a signal during clean-up), no server it started is left.
process.on("exit", () => {
  for (const instance of running) instance.kill();
  for (const client of clients) killPids([client.pid, ...descendantsOf(client.pid)], "SIGKILL");
});

interface LoadResult {
  requests: number;
  rps: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  cpu_share: number;
  seconds: number;
}

/** Runs a loadgen command, tracked in `clients` until it exits, and returns the JSON it prints. */
async function runLoadgen(cmd: string[], what: string, env?: Record<string, string>) {
  const proc = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
  clients.add(proc);
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clients.delete(proc);
  if (code !== 0) throw new Error(`${what} failed: ${err}`);
  return JSON.parse(out);
}

async function drive(target: Target, args: string[]): Promise<LoadResult> {
  const to = target.kind === "unix" ? ["-u", target.path] : ["-t", `127.0.0.1:${target.port}`];
  const cmd = [...CLIENT_PIN, loadgen, ...to, "-c", String(S.BENCH_CONNECTIONS), "-p", "/fact", ...args];
  return runLoadgen(cmd, "loadgen");
}

// --- the rows: one loop over scripts/bench/contestants.ts ----------------------------------------------

interface Variant extends VariantInfo {
  target: Target;
  /** The servers whose CPU this variant's requests cost (nginx and its upstream). */
  instances: Instance[];
}

const notes: string[] = [];
const absent: string[] = [];
const variants: Variant[] = [];
const rows = CONTESTANTS.filter((c) => c.when?.(host) ?? true);
const unknown = only?.filter((key) => !CONTESTANTS.some((c) => c.key === key)) ?? [];
if (unknown.length > 0)
  throw new Error(`BENCH_ONLY: no row ${unknown.join(", ")}; the rows: ${CONTESTANTS.map((c) => c.key).join(", ")}`);
const wanted = (c: Contestant) => only === undefined || only.includes(c.key) || c.key === "baseline";
/** Where each row is reached: nginx rows and TCP servers on a port, the others on a socket. */
const address = new Map<string, Target>(
  rows.map((c) => [c.key, isNginxRow(c) || c.tcp ? tcp(freePort()) : unix(sock(c.key))]),
);
const rowOf = (key: string) => rows.find((c) => c.key === key) as Contestant;

/** Each server started so far by its row's key, or why it could not be. */
const servers = new Map<string, Instance | string>();
async function server(c: ServerRow): Promise<Instance | string> {
  const known = servers.get(c.key);
  if (known !== undefined) return known;
  const started = await launch(c);
  servers.set(c.key, started);
  return started;
}
async function launch(c: ServerRow): Promise<Instance | string> {
  const missing = c.needs?.(host);
  if (missing) return missing;
  let cmd: string[];
  try {
    cmd = c.command(host);
  } catch (err) {
    return `could not be built: ${oneLine(err)}`;
  }
  const target = address.get(c.key) as Target;
  const listen: Record<string, string> =
    target.kind === "unix" ? { SOCKPATH: target.path } : { HOST: "127.0.0.1", PORT: String(target.port) };
  const spec: InstanceSpec = {
    name: c.key,
    cmd,
    cwd: c.cwd?.(host) ?? ROOT,
    env: { ...c.env?.(host), ...listen },
    ready: { target, path: c.ready },
    stdout: "/dev/null",
  };
  try {
    return await start(spec);
  } catch (err) {
    if (c.required) throw err;
    await running.pop()?.stop();
    return `did not start: ${oneLine(err)}`;
  }
}

/** The one nginx every nginx row goes through, each on its own port (scripts/bench/nginx.conf). */
let nginxServer: Promise<Instance | string> | undefined;
async function startNginx(): Promise<Instance | string> {
  if (!nginx) return "nginx is not installed (apt-get install nginx-light)";
  const facts = readFileSync(join(ROOT, "facts.txt"), "utf8").trimEnd().split("\n");
  const fact = [...facts].sort((a, b) => a.length - b.length)[Math.floor(facts.length / 2)]; // a median-length fact
  const fill: Record<string, string> = {
    RUN: runDir,
    USER: nginxGroup ? `user www-data ${nginxGroup};` : "",
    FACT: fact.replace(/["\\]/g, "\\$&"),
  };
  for (const [key, t] of address) fill[key] = t.kind === "unix" ? `unix:${t.path}` : `127.0.0.1:${t.port}`;
  const template = readFileSync(join(ROOT, "scripts", "bench", "nginx.conf"), "utf8");
  writeFileSync(join(runDir, "nginx.conf"), nginxConf(template, fill));
  writeFileSync(join(runDir, "proxy.conf"), readFileSync(join(ROOT, "scripts", "bench", "proxy.conf")));
  mkdirSync(join(runDir, "nginx-tmp"));
  try {
    return await start({
      name: "nginx",
      cmd: [nginx, "-p", runDir, "-c", join(runDir, "nginx.conf"), "-e", join(runDir, "nginx-error.log")],
      ready: { target: address.get("nginx-return") as Target, path: "/" },
      withChildren: true,
    });
  } catch (err) {
    await running.pop()?.stop();
    return `nginx did not start: ${oneLine(err)}`;
  }
}

console.log(`starting servers in ${runDir} …`);
for (const c of rows.filter(wanted)) {
  const label = labelOf(c, host);
  const chain: (Instance | string)[] = [];
  if (isNginxRow(c)) {
    nginxServer ??= startNginx();
    chain.push(await nginxServer);
    const upstream = c.nginx.upstream;
    if (upstream) {
      const behind = await server(rowOf(upstream) as ServerRow);
      chain.push(typeof behind === "string" ? `needs the ${upstream} row's server: ${behind}` : behind);
    }
  } else chain.push(await server(c));
  const why = chain.find((s) => typeof s === "string");
  if (why !== undefined) {
    absent.push(`\`${c.key}\` (${label}): ${why}`);
    console.log(`skipping ${c.key}: ${why}`);
  } else variants.push({ key: c.key, label, target: address.get(c.key) as Target, instances: chain as Instance[] });
}
// Required: started, unless neither it nor an nginx row in front of it was asked for.
const binaryUnix = servers.get("binary-unix") as Instance | undefined;
const showEnv = (e: Record<string, string>) =>
  Object.entries(e)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

// --- the same answer: every row that claims printerfacts' work must send what printerfacts sends ---

for (const v of variants) {
  const c = rowOf(v.key);
  if (!c.sameWork || v.target.kind !== "unix") continue;
  const problems = await sameWorkProblems(v.target.path, workFile);
  if (problems.length > 0) {
    const note = `- **${v.label} does not answer /fact as printerfacts does:** ${problems.join("; ")}`;
    notes.push(note);
    console.log(note);
  }
}

// --- idle memory, warm-up, rounds ---------------------------------------------------------------

const idle = new Map(variants.map((v) => [v.key, rssMB(v.instances[0].mainPid())]));

/**
 * Idle memory of one fresh process of an executable, started from a fresh copy of its file: how
 * much of an executable a process maps depends on the file's state in the page cache (a file just
 * written is mapped in bigger pieces), so the two sides of the target start from files alike.
 */
async function idleOf(name: string, file: string, env: Record<string, string>) {
  const copy = join(runDir, name);
  copyFileSync(file, copy);
  chmodSync(copy, 0o755);
  const instance = await start({
    name,
    cmd: [copy],
    env: { ...env, SOCKPATH: sock(name) },
    ready: { target: unix(sock(name)), path: "/fact" },
    stdout: "/dev/null",
  });
  await Bun.sleep(1000);
  const memory = { rss: rssMB(instance.mainPid()), private: privateMB(instance.mainPid()) };
  await instance.stop();
  running.splice(running.indexOf(instance), 1);
  rmSync(copy);
  return memory;
}
const IDLE_RUNS = 3;
type Idle = { rss: number; private: number };
const binaryIdles: Idle[] = [];
const baselineIdles: Idle[] = [];
const beforeIdles: Idle[] = [];
const beforeBinary = S.BENCH_BEFORE ? join(resolve(S.BENCH_BEFORE), "dist", "printerfacts") : undefined;
if (variants.some((v) => v.key === "binary-unix")) {
  for (let run = 0; run < IDLE_RUNS; run++) {
    binaryIdles.push(await idleOf("idle-binary", binary, prodEnv));
    if (beforeBinary) beforeIdles.push(await idleOf("idle-before", beforeBinary, prodEnv));
    baselineIdles.push(await idleOf("idle-ceiling", compiledBaseline, { WORK_FILE: workFile }));
  }
}
const medianOf = (list: Idle[]) => ({
  rss: median(list.map((m) => m.rss)),
  private: median(list.map((m) => m.private)),
  runs: list.length,
});
const binaryIdle = medianOf(binaryIdles);
const baselineIdle = medianOf(baselineIdles);
const beforeIdle = beforeIdles.length > 0 ? medianOf(beforeIdles) : undefined;
// Asked only now: idle memory is compared with a ceiling that is never asked for its metrics.
if (binaryUnix) await request(binaryUnix.spec.ready.target, "/metrics");
const served = new Map(variants.map((v) => [v.key, 0]));

async function warmUp() {
  console.log(`warming up ${variants.length} variants (${S.BENCH_WARMUP}s each) …`);
  for (const v of variants) {
    if (S.BENCH_WARMUP > 0)
      served.set(v.key, (served.get(v.key) ?? 0) + (await drive(v.target, ["-d", String(S.BENCH_WARMUP)])).requests);
  }
}
// Two processes of one build, started alike, can differ by 10% for as long as they live, so each
// variant is measured over several fresh processes, never one.
async function freshProcesses() {
  console.log("fresh processes for every server …");
  for (const instance of running) await instance.restart();
  if (binaryUnix) await request(binaryUnix.spec.ready.target, "/metrics");
  for (const v of variants) served.set(v.key, 0);
  await warmUp();
}
await warmUp();

const rounds: Round[] = [];
const roundsPerProcess = Math.ceil(S.BENCH_ROUNDS / Math.min(S.BENCH_PROCESSES, S.BENCH_ROUNDS));
// The machine's speed drifts within seconds, so the rows a target compares are measured back to
// back: a row with nextTo right before or after its anchor, when the anchor runs.
const nextTo = (v: Variant) => {
  const n = rowOf(v.key).nextTo;
  return n && variants.some((a) => a.key === n.key) ? n : undefined;
};
const beside = (anchor: string, side: "before" | "after") =>
  variants.filter((v) => nextTo(v)?.key === anchor && nextTo(v)?.side === side);
const inRounds = variants
  .filter((v) => nextTo(v) === undefined)
  .flatMap((v) => [...beside(v.key, "before"), v, ...beside(v.key, "after")]);
for (let r = 0; r < S.BENCH_ROUNDS; r++) {
  if (r > 0 && r % roundsPerProcess === 0) await freshProcesses();
  const order = r % 2 === 0 ? inRounds : [...inRounds].reverse();
  const round: Round = new Map();
  for (const v of order) {
    const pids = v.instances.flatMap((i) => i.pids());
    const cpu0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    let rssLoad = 0;
    const sampler = setTimeout(() => {
      rssLoad = rssMB(v.instances[0].mainPid());
    }, S.BENCH_SECONDS * 500);
    const result = await drive(v.target, ["-d", String(S.BENCH_SECONDS)]);
    clearTimeout(sampler);
    const wall = (performance.now() - t0) / 1000;
    const serverCpu = (pids.reduce((s, p) => s + cpuSeconds(p), 0) - cpu0) / wall;
    const machineCpu = (machineBusySeconds() - busy0) / wall;
    served.set(v.key, (served.get(v.key) ?? 0) + result.requests);
    round.set(v.key, {
      rps: result.rps,
      p50: result.p50_us / 1000,
      p99: result.p99_us / 1000,
      errors: result.errors,
      serverCpu,
      serverUsPerRequest: (serverCpu * wall * 1e6) / Math.max(1, result.requests),
      clientCpu: result.cpu_share,
      otherCpu: Math.max(0, machineCpu - serverCpu - result.cpu_share),
      rssLoad,
    });
    console.log(
      `round ${r + 1}/${S.BENCH_ROUNDS} ${v.key.padEnd(18)} ${result.rps.toFixed(0).padStart(7)} req/s  p99 ${(result.p99_us / 1000).toFixed(2)} ms  errors ${result.errors}  server cpu ${serverCpu.toFixed(2)}  client cpu ${result.cpu_share.toFixed(2)}  others ${Math.max(0, machineCpu - serverCpu - result.cpu_share).toFixed(2)}`,
    );
  }
  rounds.push(round);
}
await Bun.sleep(1000);
const end = new Map(variants.map((v) => [v.key, rssMB(v.instances[0].mainPid())]));
await stopAll();

// --- memory growth on a fresh binary: after a tenth of the requests, and after all of them ----------

let growth: { first: number; firstRss: number; all: number; allRss: number; errors: number } | undefined;
if (S.BENCH_RSS_REQUESTS > 0 && variants.some((v) => v.key === "binary-unix")) {
  console.log(`memory growth: ${S.BENCH_RSS_REQUESTS} requests to a fresh dist/printerfacts …`);
  const path = sock("growth");
  const fresh = await start({
    name: "growth",
    cmd: [binary],
    env: { ...prodEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/healthz" },
    stdout: "/dev/null",
  });
  const first = Math.round(S.BENCH_RSS_REQUESTS / 10);
  const a = await drive(unix(path), ["-n", String(first)]);
  await Bun.sleep(1000);
  const firstRss = rssMB(fresh.proc.pid);
  const b = await drive(unix(path), ["-n", String(S.BENCH_RSS_REQUESTS - first)]);
  await Bun.sleep(1000);
  growth = { first, firstRss, all: S.BENCH_RSS_REQUESTS, allRss: rssMB(fresh.proc.pid), errors: a.errors + b.errors };
  await stopAll();
}

// --- start to first response, and size ---------------------------------------------------------

console.log(`start to first response: ${S.BENCH_STARTUP_RUNS} runs …`);
const startups: number[] = [];
for (let i = 0; i < S.BENCH_STARTUP_RUNS; i++) {
  const path = sock("startup");
  const cmd = [loadgen, "-u", path, "-p", "/healthz", "--startup", "--", binary];
  const result = await runLoadgen(cmd, "start-up measurement", cleanEnv({ ...prodEnv, SOCKPATH: path }));
  startups.push(result.startup_ms);
}
await cleanUp();

// What Hono's own middleware would cost a route, in process: why app.ts does without them.
if (S.BENCH_MIDDLEWARE) {
  console.log("Hono middleware, in process …");
  const table = run([bun, join(ROOT, "scripts", "bench", "middleware.ts")], "scripts/bench/middleware.ts").trim();
  notes.push(
    "## Hono's middleware on one route, in process",
    `\`bun scripts/bench/middleware.ts\`: a route like GET /facts/:id on a bare Hono app, alone and behind each of Hono's middleware that app.ts could use (secureHeaders with our options). No sockets: a full request over a socket costs the server several µs more, so over HTTP the ratios are smaller; the differences in µs carry over.\n\n${table}`,
  );
}

// --- report ------------------------------------------------------------------------------------

const summaries = summarise(variants, rounds, { idle, end, served });
const versions = {
  bun: run([bun, "--version"], "bun --version").trim(),
  node: process.versions.node ? run(["node", "--version"], "node --version").trim() : "",
  deno: deno ? run([deno, "--version"], "deno --version").split("\n")[0] : "",
  nginx: nginx ? spawnSync(nginx, ["-v"], { encoding: "utf8" }).stderr.trim().replace("nginx version: ", "") : "",
};
const report = renderReport({
  command: command(env),
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  commit:
    spawnSync("git", ["describe", "--always", "--dirty"], { cwd: ROOT, encoding: "utf8" }).stdout?.trim() || "unknown",
  machine: {
    host: hostname(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: run(["uname", "-sr"], "uname").trim(),
    load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  },
  versions,
  settings: {
    seconds: S.BENCH_SECONDS,
    rounds: S.BENCH_ROUNDS,
    processes: S.BENCH_PROCESSES,
    connections: S.BENCH_CONNECTIONS,
    warmup: S.BENCH_WARMUP,
    pinned: pin,
    rssRequests: S.BENCH_RSS_REQUESTS,
    startupRuns: S.BENCH_STARTUP_RUNS,
    quick: isQuick(S),
  },
  prod: { env: showEnv(prodEnv), nolog: showEnv(nologEnv) },
  summaries,
  rounds,
  order: variants.map((v) => v.key),
  absent,
  growth,
  startups,
  binaryIdle,
  baselineIdle,
  beforeIdle,
  binaryBytes: statSync(binary).size,
  notes,
});
console.log(`\n${report}`);
if (S.BENCH_OUT !== "-") {
  writeFileSync(join(ROOT, S.BENCH_OUT), report);
  console.log(`wrote ${S.BENCH_OUT}`);
}

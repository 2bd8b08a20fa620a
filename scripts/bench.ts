#!/usr/bin/env bun
// npm run bench: every server variant side by side in one run, the same load at each, alternating
// them round by round (A B C … then … C B A) so drift on a shared machine cancels; prints the
// table with ratios to the baseline and writes it to BENCHMARKS.md. The baseline is the equal-work
// ceiling: a raw Bun.serve doing exactly what printerfacts does for GET /fact (scripts/bench/work.ts);
// Deno gets its own ceiling, and peers a user might pick instead (Go net/http, Rust hyper, Fastify,
// Elysia) do the same work. The bench builds each; one whose toolchain is missing is skipped, with
// the reason in the report.
//
// Settings (environment): BENCH_SECONDS per measurement (3), BENCH_ROUNDS (12), BENCH_PROCESSES
// (4: the rounds are split among that many fresh processes of each server), BENCH_CONNECTIONS
// (50), BENCH_WARMUP seconds per variant and process (2), BENCH_STARTUP_RUNS (11),
// BENCH_RSS_REQUESTS for the memory-growth check (1000000; memory is read after a tenth and after
// all), BENCH_PIN (1: servers on core 0, load client on core 1), BENCH_ONLY (comma-separated
// variant keys), BENCH_BEFORE (a built checkout with its own node_modules, run alongside, e.g. the
// commit before a change), BENCH_MIDDLEWARE (0: skip the in-process middleware table), BENCH_BUILD
// (1: build first), BENCH_OUT (BENCHMARKS.md; "-" prints only), BENCH_PROD_ENV / BENCH_NOLOG_ENV
// ("K=V K=V": the production settings and the same with the access log off, when not detected).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, hostname, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { createApp } from "../src/http/app.ts";
import { facts as factList } from "../src/http/facts.ts";
import type { Subprocess } from "bun";
import { cpuSeconds, descendantsOf, machineBusySeconds, privateMB, rssMB } from "./bench/proc.ts";
import { type Round, renderReport, summarise, type VariantInfo } from "./bench/report.ts";
import { cleanEnv, freePort, Instance, type InstanceSpec, killPids, request, type Target } from "./bench/servers.ts";

const ROOT = resolve(import.meta.dir, "..");
const BIN = join(ROOT, "node_modules", ".bin");
const env = process.env;
const num = (name: string, fallback: number) => {
  const value = env[name] === undefined || env[name] === "" ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}=${env[name]} is not a number`);
  return value;
};
const settings = {
  seconds: num("BENCH_SECONDS", 3),
  rounds: Math.max(1, Math.round(num("BENCH_ROUNDS", 12))),
  processes: Math.max(1, Math.round(num("BENCH_PROCESSES", 4))),
  connections: Math.max(1, Math.round(num("BENCH_CONNECTIONS", 50))),
  warmup: num("BENCH_WARMUP", 2),
  startupRuns: Math.max(1, Math.round(num("BENCH_STARTUP_RUNS", 11))),
  rssRequests: Math.round(num("BENCH_RSS_REQUESTS", 1_000_000)),
  pin: env.BENCH_PIN !== "0" && cpus().length >= 2 && which("taskset") !== undefined,
  only: env.BENCH_ONLY ? env.BENCH_ONLY.split(",").map((s) => s.trim()) : undefined,
  build: env.BENCH_BUILD !== "0",
  out: env.BENCH_OUT ?? "BENCHMARKS.md",
};
const SERVER_PIN = settings.pin ? ["taskset", "-c", "0"] : [];
const CLIENT_PIN = settings.pin ? ["taskset", "-c", "1"] : [];

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

function parseEnvList(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  return Object.fromEntries(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

// --- build -------------------------------------------------------------------------------------

const buildDir = join(ROOT, ".bench");
mkdirSync(buildDir, { recursive: true });
const loadgen = join(buildDir, "loadgen");
const loadgenSource = join(ROOT, "scripts", "loadgen.c");
if (!existsSync(loadgen) || statSync(loadgen).mtimeMs < statSync(loadgenSource).mtimeMs) {
  run([env.CC ?? "cc", "-O2", "-Wall", "-o", loadgen, loadgenSource], "building the load client");
}
const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts ?? {};
if (settings.build) {
  console.log("building dist/printerfacts …");
  run(["npm", "run", "build"], "npm run build");
  if (scripts["build:node"]) run(["npm", "run", "build:node"], "npm run build:node");
}
const binary = join(ROOT, "dist", "printerfacts");
if (!existsSync(binary)) throw new Error("dist/printerfacts is missing: run npm run build");
const bun = join(BIN, "bun");
const deno = nativeDeno();
const ceilingScript = join(ROOT, "scripts", "bench", "ceiling.ts");
// The Bun ceiling compiled as the build compiles printerfacts, for the idle memory the runtime
// itself takes with the same work loaded.
const buildFlags = (scripts.build ?? "")
  .split(/\s+/)
  .filter((arg) => arg.startsWith("--") && !["--compile", "--outfile"].includes(arg));
const compiledBaseline = join(buildDir, "ceiling");
run([bun, "build", ceilingScript, "--compile", ...buildFlags, "--outfile", compiledBaseline], "compiling the ceiling");

// What every ceiling and peer serves: /fact's headers as the app sends them (but the per-response
// ones) and the facts. Written once; each server reads it at start (WORK_FILE).
const workFile = join(buildDir, "work.json");
{
  const sample = await createApp({ facts: factList }).request("/fact");
  const headers = [...sample.headers].filter(([name]) => !["x-request-id", "content-length"].includes(name));
  writeFileSync(workFile, JSON.stringify({ headers, facts: factList.map((f) => f.text) }));
}

/** Builds a peer; the reason it cannot be built (a missing toolchain) instead of throwing. */
function buildPeer(build: () => void): string | undefined {
  try {
    build();
    return undefined;
  } catch (err) {
    return `could not be built: ${String((err as Error).message)
      .replace(/\s+/g, " ")
      .slice(0, 300)}`;
  }
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
  if (env.BENCH_KEEP !== "1") rmSync(runDir, { recursive: true, force: true });
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
  const cmd = [...CLIENT_PIN, loadgen, ...to, "-c", String(settings.connections), "-p", "/fact", ...args];
  return runLoadgen(cmd, "loadgen");
}

// --- what the build supports: production settings, access log on and off ----------------------

/** Starts the binary with env, makes three requests, and counts the lines it wrote to stdout. */
async function accessLogLines(extra: Record<string, string>): Promise<number | undefined> {
  const out = join(runDir, "probe.stdout");
  writeFileSync(out, "");
  const path = sock("probe");
  const probe = new Instance(
    {
      name: "probe",
      cmd: [binary],
      env: { ...extra, SOCKPATH: path },
      ready: { target: unix(path), path: "/healthz" },
      stdout: out,
    },
    [],
    join(runDir, "probe.stderr"),
  );
  running.push(probe);
  try {
    await probe.waitReady(10_000);
    for (let i = 0; i < 3; i++) await request(unix(path), "/fact");
  } catch {
    return undefined; // that setting is refused
  } finally {
    await probe.stop();
    running.splice(running.indexOf(probe), 1);
  }
  return readFileSync(out, "utf8").split("\n").filter(Boolean).length;
}

const help = run([binary, "--help"], "dist/printerfacts --help");
const prodEnv = parseEnvList(env.BENCH_PROD_ENV) ?? (help.includes("LOG_FORMAT") ? { LOG_FORMAT: "json" } : {});
const prodLogLines = await accessLogLines(prodEnv);
if (prodLogLines === undefined) throw new Error(`dist/printerfacts does not start with ${JSON.stringify(prodEnv)}`);
const accessLog = prodLogLines >= 3;
let nologEnv: Record<string, string> | undefined;
if (accessLog) {
  const given = parseEnvList(env.BENCH_NOLOG_ENV);
  const { LOG_FORMAT: _, ...withoutFormat } = prodEnv;
  const candidates = given
    ? [given]
    : [
        withoutFormat,
        { ...prodEnv, LOG_LEVEL: "warn" },
        { ...prodEnv, LOG_FORMAT: "off" },
        { ...prodEnv, LOG_FORMAT: "none" },
      ];
  for (const candidate of candidates) {
    if ((await accessLogLines(candidate)) === 0) {
      nologEnv = candidate;
      break;
    }
  }
}
const showEnv = (e: Record<string, string>) =>
  Object.entries(e)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ") || "(defaults)";

// --- the variants --------------------------------------------------------------------------------

interface Variant extends VariantInfo {
  target: Target;
  /** The servers whose CPU this variant's requests cost (nginx and its upstream). */
  instances: Instance[];
}

interface Plan {
  key: string;
  label: string;
  absent?: string;
}

const notes: string[] = [];
const absent: Plan[] = [];
const wanted = (key: string) => settings.only === undefined || settings.only.includes(key) || key === "baseline";
const variants: Variant[] = [];
const addVariant = (key: string, label: string, target: Target, instances: Instance[]) =>
  variants.push({ key, label, target, instances });
const skip = (key: string, label: string, why: string) => {
  absent.push({ key, label, absent: why });
  console.log(`skipping ${key}: ${why}`);
};
const logsOut = "/dev/null";
/** An optional variant that fails to start is skipped with the reason, not the whole run. */
async function tryStart(key: string, label: string, spec: InstanceSpec): Promise<Instance | undefined> {
  try {
    return await start(spec);
  } catch (err) {
    const instance = running.pop();
    await instance?.stop();
    skip(
      key,
      label,
      `did not start: ${String((err as Error).message)
        .replace(/\s+/g, " ")
        .slice(0, 300)}`,
    );
    return undefined;
  }
}
const groupEnv: Record<string, string> = nginxGroup ? { SOCKGROUP: nginxGroup } : {};

console.log(`starting servers in ${runDir} …`);
const workEnv = { WORK_FILE: workFile };
const baseline = await start({
  name: "baseline",
  cmd: [bun, ceilingScript],
  env: { ...workEnv, SOCKPATH: sock("baseline") },
  ready: { target: unix(sock("baseline")), path: "/fact" },
  stdout: logsOut,
});
addVariant("baseline", "Bun.serve doing the same work (Bun's ceiling; baseline)", unix(sock("baseline")), [baseline]);
if (wanted("ceiling-nolog")) {
  // What the log line costs the ceiling itself, beside what the access log costs printerfacts.
  const path = sock("ceiling-nolog");
  const label = "Bun.serve doing the same work but the log line";
  const i = await tryStart("ceiling-nolog", label, {
    name: "ceiling-nolog",
    cmd: [bun, ceilingScript],
    env: { ...workEnv, SOCKPATH: path, CEILING_LOG: "off" },
    ready: { target: unix(path), path: "/fact" },
    stdout: logsOut,
  });
  if (i) addVariant("ceiling-nolog", label, unix(path), [i]);
}
if (wanted("ceiling-deno")) {
  const path = sock("ceiling-deno");
  const label = "Deno.serve doing the same work (Deno's ceiling)";
  if (deno) {
    const i = await tryStart("ceiling-deno", label, {
      name: "ceiling-deno",
      cmd: [deno, "run", "--allow-all", ceilingScript],
      env: { ...workEnv, SOCKPATH: path },
      ready: { target: unix(path), path: "/fact" },
      stdout: logsOut,
    });
    if (i) addVariant("ceiling-deno", label, unix(path), [i]);
  } else skip("ceiling-deno", label, "deno is not installed (npm ci installs it)");
}
if (wanted("bare-bun")) {
  const path = sock("bare-bun");
  const label = "bare Bun.serve: the fact only, no headers, id, log or metrics";
  const i = await tryStart("bare-bun", label, {
    name: "bare-bun",
    cmd: [bun, join(ROOT, "scripts", "bench", "baseline.ts")],
    env: { SOCKPATH: path },
    ready: { target: unix(path), path: "/" },
  });
  if (i) addVariant("bare-bun", label, unix(path), [i]);
}
if (wanted("bare-hono")) {
  const path = sock("bare-hono");
  const label = "bare Hono on Bun.serve: the fact only, one route, no middleware";
  const i = await tryStart("bare-hono", label, {
    name: "bare-hono",
    cmd: [bun, join(ROOT, "scripts", "bench", "baseline.ts")],
    env: { SOCKPATH: path, BASELINE_FRAMEWORK: "hono" },
    ready: { target: unix(path), path: "/fact" },
  });
  if (i) addVariant("bare-hono", label, unix(path), [i]);
}

let binaryUnix: Instance | undefined;
let binaryTcp: Instance | undefined;
let tcpPort = 0;
const metricsOn = { value: false };
if (wanted("binary-unix") || wanted("nginx-unix")) {
  const path = sock("binary");
  binaryUnix = await start({
    name: "binary-unix",
    cmd: [binary],
    env: { ...prodEnv, ...groupEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/healthz" },
    stdout: logsOut,
  });
  if (wanted("binary-unix")) addVariant("binary-unix", "dist/printerfacts, unix", unix(path), [binaryUnix]);
}
if (wanted("binary-unix-nolog")) {
  if (nologEnv) {
    const path = sock("binary-nolog");
    const label = "dist/printerfacts, unix, access log off";
    const i = await tryStart("binary-unix-nolog", label, {
      name: "binary-unix-nolog",
      cmd: [binary],
      env: { ...nologEnv, SOCKPATH: path },
      ready: { target: unix(path), path: "/healthz" },
      stdout: logsOut,
    });
    if (i) addVariant("binary-unix-nolog", label, unix(path), [i]);
  } else {
    skip(
      "binary-unix-nolog",
      "dist/printerfacts, unix, access log off",
      accessLog
        ? "no setting found that turns the access log off (set BENCH_NOLOG_ENV)"
        : "this build writes no access log",
    );
  }
}
if (wanted("binary-tcp") || wanted("nginx-tcp")) {
  tcpPort = freePort();
  binaryTcp = await start({
    name: "binary-tcp",
    cmd: [binary],
    env: { ...prodEnv, HOST: "127.0.0.1", PORT: String(tcpPort) },
    ready: { target: { kind: "tcp", port: tcpPort }, path: "/healthz" },
    stdout: logsOut,
  });
  if (wanted("binary-tcp"))
    addVariant("binary-tcp", "dist/printerfacts, TCP 127.0.0.1", { kind: "tcp", port: tcpPort }, [binaryTcp]);
}
if (wanted("bun-src")) {
  const path = sock("bun-src");
  const i = await tryStart("bun-src", "bun src/main.ts, unix", {
    name: "bun-src",
    cmd: [bun, join(ROOT, "src", "main.ts")],
    env: { ...prodEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/healthz" },
    stdout: logsOut,
  });
  if (i) addVariant("bun-src", "bun src/main.ts, unix", unix(path), [i]);
}
// Node and Deno run the way package.json runs them (start:node, start:deno), exec'd so the pid we
// measure is the runtime's own.
const viaScript = (script: string): string[] => ["sh", "-c", `exec ${script.replace(/^exec /, "")}`];
// scripts/deno-run runs $DENO: the same native deno for every Deno row, this checkout's or before's.
const denoEnv: Record<string, string> = deno ? { DENO: deno } : {};
if (wanted("node")) {
  const bundle = join(ROOT, "dist", "node", "printerfacts.mjs");
  const script = env.BENCH_NODE_CMD ?? scripts["start:node"] ?? (existsSync(bundle) ? `node ${bundle}` : undefined);
  if (script && existsSync(bundle)) {
    const path = sock("node");
    const label = "Node (npm run start:node), unix";
    const i = await tryStart("node", label, {
      name: "node",
      cmd: viaScript(script),
      cwd: ROOT,
      env: { ...prodEnv, SOCKPATH: path },
      ready: { target: unix(path), path: "/healthz" },
      stdout: logsOut,
    });
    if (i) addVariant("node", label, unix(path), [i]);
  } else skip("node", "Node, unix", "dist/node/printerfacts.mjs does not exist (no build:node script yet)");
}
if (wanted("deno")) {
  const script = env.BENCH_DENO_CMD ?? scripts["start:deno"];
  if (script) {
    const path = sock("deno");
    const label = "Deno (npm run start:deno), unix";
    const i = await tryStart("deno", label, {
      name: "deno",
      cmd: viaScript(script),
      cwd: ROOT,
      env: { ...prodEnv, SOCKPATH: path, PATH: `${BIN}:${env.PATH}`, ...denoEnv },
      ready: { target: unix(path), path: "/healthz" },
      stdout: logsOut,
    });
    if (i) addVariant("deno", label, unix(path), [i]);
  } else skip("deno", "Deno, unix", "no start:deno script in package.json yet (or set BENCH_DENO_CMD)");
}
// BENCH_COMPARE=path/to/another/printerfacts: that build too, same settings (e.g. before a change),
// named in the table by BENCH_COMPARE_LABEL.
if (env.BENCH_COMPARE) {
  const path = sock("compare");
  const label = `${env.BENCH_COMPARE_LABEL ?? env.BENCH_COMPARE}, unix`;
  const i = await tryStart("compare", label, {
    name: "compare",
    cmd: [resolve(env.BENCH_COMPARE)],
    env: { ...prodEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/healthz" },
    stdout: logsOut,
  });
  if (i) addVariant("compare", label, unix(path), [i]);
}
// --- peers: what a user might pick instead, each doing the same work (scripts/bench/work.ts) ------

async function peer(key: string, label: string, build: (() => string[]) | string) {
  if (!wanted(key)) return;
  if (typeof build === "string") return skip(key, label, build);
  let cmd: string[] = [];
  const failed = buildPeer(() => {
    cmd = build();
  });
  if (failed) return skip(key, label, failed);
  const path = sock(key);
  const i = await tryStart(key, label, {
    name: key,
    cmd,
    cwd: ROOT,
    env: { ...workEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/fact" },
    stdout: logsOut,
  });
  if (i) addVariant(key, label, unix(path), [i]);
}
const peersDir = join(ROOT, "scripts", "bench", "peers");
const go = which("go");
await peer(
  "go",
  "Go net/http (peer)",
  go
    ? () => {
        const out = join(buildDir, "peer-go");
        run([go, "build", "-o", out, join(peersDir, "go", "main.go")], "go build");
        return [out];
      }
    : "Go is not installed (apt-get install golang-go)",
);
const cargo = which("cargo");
const debianHyper =
  existsSync("/usr/share/cargo/registry") &&
  readdirSync("/usr/share/cargo/registry").some((d) => d.startsWith("hyper-0.14"));
await peer(
  "hyper",
  "Rust hyper 0.14 + tokio, one thread (peer)",
  !cargo
    ? "cargo is not installed (apt-get install cargo)"
    : !debianHyper
      ? "Debian's hyper 0.14 crate sources are not installed (apt-get install librust-hyper-dev librust-tokio-dev)"
      : () => {
          // Offline, against Debian's crates: no crates.io access needed.
          const cargoHome = join(buildDir, "cargo-home");
          mkdirSync(cargoHome, { recursive: true });
          writeFileSync(
            join(cargoHome, "config.toml"),
            '[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "/usr/share/cargo/registry"\n[net]\noffline = true\n',
          );
          const target = join(buildDir, "hyper-target");
          const built = spawnSync(
            cargo,
            ["build", "--release", "--offline", "--manifest-path", join(peersDir, "hyper", "Cargo.toml")],
            {
              encoding: "utf8",
              env: cleanEnv({ CARGO_HOME: cargoHome, CARGO_TARGET_DIR: target }),
            },
          );
          if (built.status !== 0)
            throw new Error(`cargo build failed: ${built.stderr.trim().split("\n").slice(-5).join(" ")}`);
          return [join(target, "release", "printerfacts-peer-hyper")];
        },
);
await peer(
  "fastify",
  "Fastify on Node (peer)",
  existsSync(join(ROOT, "node_modules", "fastify"))
    ? () => {
        run(
          [
            bun,
            "build",
            join(peersDir, "fastify.ts"),
            "--target=node",
            "--packages=external",
            "--outfile",
            join(buildDir, "peer-fastify.mjs"),
          ],
          "bundling the Fastify peer",
        );
        return ["node", join(buildDir, "peer-fastify.mjs")];
      }
    : "fastify is not installed (npm ci installs the devDependencies)",
);
await peer(
  "elysia",
  "Elysia on Bun (peer)",
  existsSync(join(ROOT, "node_modules", "elysia"))
    ? () => [bun, join(peersDir, "elysia.ts")]
    : "elysia is not installed (npm ci installs the devDependencies)",
);

// BENCH_BEFORE=path/to/a/built/checkout (npm run pretest done there, e.g. of the commit before a
// change): its binary, Node bundle and Deno run too, so "no slower than before" is one run's ratio.
if (env.BENCH_BEFORE) {
  const dir = resolve(env.BENCH_BEFORE);
  const before: [string, string, string[]][] = [
    ["before-binary", "before: dist/printerfacts, unix", [join(dir, "dist", "printerfacts")]],
    [
      "before-node",
      "before: Node, unix",
      viaScript(`node --enable-source-maps ${join(dir, "dist", "node", "printerfacts.mjs")}`),
    ],
    ["before-deno", "before: Deno, unix", viaScript(join(dir, "scripts", "deno-run"))],
  ];
  for (const [key, label, cmd] of before) {
    if (!wanted(key)) continue;
    const path = sock(key);
    const i = await tryStart(key, label, {
      name: key,
      cmd,
      cwd: dir,
      env: { ...prodEnv, SOCKPATH: path, PATH: `${BIN}:${env.PATH}`, ...denoEnv },
      ready: { target: unix(path), path: "/healthz" },
      stdout: logsOut,
    });
    if (i) addVariant(key, label, unix(path), [i]);
  }
}

const nginx = which("nginx") ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : undefined);
const nginxKeys = ["nginx-return", "nginx-unix", "nginx-tcp"].filter(wanted);
if (nginxKeys.length > 0) {
  if (nginx && binaryUnix && binaryTcp) {
    const ports = { return: freePort(), unix: freePort(), tcp: freePort() };
    const facts = readFileSync(join(ROOT, "facts.txt"), "utf8").trimEnd().split("\n");
    const fact = [...facts].sort((a, b) => a.length - b.length)[Math.floor(facts.length / 2)]; // a median-length fact
    const fill: Record<string, string> = {
      RUN: runDir,
      USER: nginxGroup ? `user www-data ${nginxGroup};` : "",
      SOCK: sock("binary"),
      TCP_PORT: String(tcpPort),
      PORT_RETURN: String(ports.return),
      PORT_UNIX: String(ports.unix),
      PORT_TCP: String(ports.tcp),
      FACT: fact.replace(/["\\]/g, "\\$&"),
    };
    const conf = readFileSync(join(ROOT, "scripts", "bench", "nginx.conf"), "utf8").replace(
      /@(\w+)@/g,
      (_, k) => fill[k],
    );
    writeFileSync(join(runDir, "nginx.conf"), conf);
    writeFileSync(join(runDir, "proxy.conf"), readFileSync(join(ROOT, "scripts", "bench", "proxy.conf")));
    mkdirSync(join(runDir, "nginx-tmp"));
    const ngx = await tryStart("nginx", "nginx", {
      name: "nginx",
      cmd: [nginx, "-p", runDir, "-c", join(runDir, "nginx.conf"), "-e", join(runDir, "nginx-error.log")],
      ready: { target: { kind: "tcp", port: ports.return }, path: "/" },
      withChildren: true,
    });
    const tcp = (port: number): Target => ({ kind: "tcp", port });
    if (!ngx) for (const key of nginxKeys.slice(1)) skip(key, key, "nginx did not start (see above)");
    else if (wanted("nginx-return"))
      addVariant("nginx-return", "nginx return 200 (native ceiling)", tcp(ports.return), [ngx]);
    if (ngx && wanted("nginx-unix"))
      addVariant("nginx-unix", "nginx → dist/printerfacts, unix", tcp(ports.unix), [ngx, binaryUnix]);
    if (ngx && wanted("nginx-tcp"))
      addVariant("nginx-tcp", "nginx → dist/printerfacts, TCP keepalive", tcp(ports.tcp), [ngx, binaryTcp]);
  } else {
    for (const key of nginxKeys)
      skip(
        key,
        key,
        nginx
          ? "needs the binary-unix and binary-tcp variants"
          : "nginx is not installed (apt-get install nginx-light)",
      );
  }
}

// --- the same answer: every row that claims printerfacts' work must send what printerfacts sends ---

const SAME_WORK = [
  "baseline",
  "ceiling-deno",
  "go",
  "hyper",
  "fastify",
  "elysia",
  "binary-unix",
  "bun-src",
  "node",
  "deno",
];
{
  const work = JSON.parse(readFileSync(workFile, "utf8")) as { headers: [string, string][]; facts: string[] };
  const transport = new Set(["date", "x-request-id", "content-length", "connection", "keep-alive"]);
  /** Name: value lines, lower-case names, sorted, without what each response or transport adds. */
  const canon = (pairs: Iterable<[string, string]>) =>
    [...pairs]
      .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
      .filter((l) => !transport.has(l.slice(0, l.indexOf(":"))))
      .sort()
      .join("\n");
  const expected = canon(work.headers);
  const bodies = new Set(work.facts.map((f) => `${f}\n`));
  for (const v of variants.filter((v) => SAME_WORK.includes(v.key) && v.target.kind === "unix")) {
    const problems: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch("http://localhost/fact", { unix: (v.target as { path: string }).path });
      const body = await res.text();
      const got = canon(res.headers);
      if (res.status !== 200) problems.push(`status ${res.status}`);
      if (!bodies.has(body)) problems.push(`a body that is not one fact: ${JSON.stringify(body.slice(0, 60))}`);
      if (res.headers.get("content-length") !== String(Buffer.byteLength(body)))
        problems.push(`Content-Length ${res.headers.get("content-length")}`);
      if (got !== expected) problems.push(`headers ${JSON.stringify(got)}`);
      ids.push(res.headers.get("x-request-id") ?? "");
    }
    if (
      !ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) ||
      ids[0] === ids[1]
    )
      problems.push(`request ids ${ids.join(", ")}`);
    if (problems.length > 0) {
      const note = `- **${v.label} does not answer /fact as printerfacts does:** ${[...new Set(problems)].join("; ")}`;
      notes.push(note);
      console.log(note);
    }
  }
}

// --- idle memory, warm-up, rounds ---------------------------------------------------------------

const compiled = await start({
  name: "ceiling-compiled",
  cmd: [compiledBaseline],
  env: { ...workEnv, SOCKPATH: sock("ceiling-compiled") },
  ready: { target: unix(sock("ceiling-compiled")), path: "/fact" },
  stdout: logsOut,
});
await Bun.sleep(1000);
const idle = new Map(variants.map((v) => [v.key, rssMB(v.instances[0].mainPid())]));
const binaryVariant = variants.find((v) => v.key === "binary-unix");
const binaryIdlePrivate = binaryVariant ? privateMB(binaryVariant.instances[0].mainPid()) : Number.NaN;
const baselineIdle = { rss: rssMB(compiled.mainPid()), private: privateMB(compiled.mainPid()) };
await compiled.stop();
running.splice(running.indexOf(compiled), 1);
// Asked only now: idle memory is compared with a ceiling that is never asked for its metrics.
if (binaryUnix) metricsOn.value = (await request(binaryUnix.spec.ready.target, "/metrics").catch(() => 0)) === 200;
const served = new Map(variants.map((v) => [v.key, 0]));

async function warmUp() {
  console.log(`warming up ${variants.length} variants (${settings.warmup}s each) …`);
  for (const v of variants) {
    if (settings.warmup > 0)
      served.set(v.key, (served.get(v.key) ?? 0) + (await drive(v.target, ["-d", String(settings.warmup)])).requests);
  }
}
// Two processes of one build, started alike, can differ by 10% for as long as they live, so each
// variant is measured over several fresh processes, never one.
async function freshProcesses() {
  console.log("fresh processes for every server …");
  for (const instance of running) await instance.restart();
  if (metricsOn.value && binaryUnix) await request(binaryUnix.spec.ready.target, "/metrics");
  for (const v of variants) served.set(v.key, 0);
  await warmUp();
}
await warmUp();

const rounds: Round[] = [];
const roundsPerProcess = Math.ceil(settings.rounds / Math.min(settings.processes, settings.rounds));
// The machine's speed drifts within seconds, so the rows a target compares are measured back to
// back: [a row, the row it is measured next to, on which side].
const PAIRED: [string, string, "before" | "after"][] = [
  ["ceiling-deno", "deno", "before"],
  ["before-binary", "binary-unix", "after"],
  ["before-node", "node", "after"],
  ["before-deno", "deno", "after"],
];
const moved = PAIRED.filter(([, anchor]) => variants.some((v) => v.key === anchor));
const beside = (anchor: string, side: "before" | "after") =>
  moved.flatMap(([key, a, s]) => (a === anchor && s === side ? variants.filter((v) => v.key === key) : []));
const inRounds = variants
  .filter((v) => !moved.some(([key]) => key === v.key))
  .flatMap((v) => [...beside(v.key, "before"), v, ...beside(v.key, "after")]);
for (let r = 0; r < settings.rounds; r++) {
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
    }, settings.seconds * 500);
    const result = await drive(v.target, ["-d", String(settings.seconds)]);
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
      `round ${r + 1}/${settings.rounds} ${v.key.padEnd(18)} ${result.rps.toFixed(0).padStart(7)} req/s  p99 ${(result.p99_us / 1000).toFixed(2)} ms  errors ${result.errors}  server cpu ${serverCpu.toFixed(2)}  client cpu ${result.cpu_share.toFixed(2)}  others ${Math.max(0, machineCpu - serverCpu - result.cpu_share).toFixed(2)}`,
    );
  }
  rounds.push(round);
}
await Bun.sleep(1000);
const end = new Map(variants.map((v) => [v.key, rssMB(v.instances[0].mainPid())]));
await stopAll();

// --- memory growth on a fresh binary: after a tenth of the requests, and after all of them ----------

let growth: { first: number; firstRss: number; all: number; allRss: number; errors: number } | undefined;
if (settings.rssRequests > 0 && variants.some((v) => v.key === "binary-unix")) {
  console.log(`memory growth: ${settings.rssRequests} requests to a fresh dist/printerfacts …`);
  const path = sock("growth");
  const fresh = await start({
    name: "growth",
    cmd: [binary],
    env: { ...prodEnv, SOCKPATH: path },
    ready: { target: unix(path), path: "/healthz" },
    stdout: logsOut,
  });
  const first = Math.round(settings.rssRequests / 10);
  const a = await drive(unix(path), ["-n", String(first)]);
  await Bun.sleep(1000);
  const firstRss = rssMB(fresh.proc.pid);
  const b = await drive(unix(path), ["-n", String(settings.rssRequests - first)]);
  await Bun.sleep(1000);
  growth = { first, firstRss, all: settings.rssRequests, allRss: rssMB(fresh.proc.pid), errors: a.errors + b.errors };
  await stopAll();
}

// --- start to first response, and size ---------------------------------------------------------

console.log(`start to first response: ${settings.startupRuns} runs …`);
const startups: number[] = [];
for (let i = 0; i < settings.startupRuns; i++) {
  const path = sock("startup");
  const cmd = [loadgen, "-u", path, "-p", "/healthz", "--startup", "--", binary];
  const result = await runLoadgen(cmd, "start-up measurement", cleanEnv({ ...prodEnv, SOCKPATH: path }));
  startups.push(result.startup_ms);
}
await cleanUp();

// What Hono's own middleware would cost a route, in process: why app.ts does without them.
if (env.BENCH_MIDDLEWARE !== "0") {
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
const defaults: Record<string, string> = { BENCH_SECONDS: "3", BENCH_ROUNDS: "8", BENCH_CONNECTIONS: "50" };
const shellWord = (text: string) => (/^[\w./,:=-]*$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);
const changed = Object.entries(defaults)
  .filter(([k, v]) => env[k] !== undefined && env[k] !== v)
  .map(([k]) => `${k}=${shellWord(env[k] ?? "")}`);
for (const k of [
  "BENCH_WARMUP",
  "BENCH_RSS_REQUESTS",
  "BENCH_STARTUP_RUNS",
  "BENCH_PIN",
  "BENCH_ONLY",
  "BENCH_COMPARE",
  "BENCH_COMPARE_LABEL",
  "BENCH_BEFORE",
]) {
  if (env[k] !== undefined) changed.push(`${k}=${shellWord(env[k])}`);
}
const report = renderReport({
  command: [...changed, "npm run bench"].join(" "),
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
  settings: { ...settings, pinned: settings.pin },
  prod: {
    env: showEnv(prodEnv),
    accessLog,
    nolog: nologEnv ? showEnv(nologEnv) : undefined,
    metrics: metricsOn.value,
  },
  summaries,
  rounds,
  order: variants.map((v) => v.key),
  absent: absent.map((a) => `\`${a.key}\` (${a.label}): ${a.absent}`),
  growth,
  startups,
  binaryIdlePrivate,
  baselineIdle,
  binaryBytes: statSync(binary).size,
  notes,
});
console.log(`\n${report}`);
if (settings.out !== "-") {
  writeFileSync(join(ROOT, settings.out), report);
  console.log(`wrote ${settings.out}`);
}

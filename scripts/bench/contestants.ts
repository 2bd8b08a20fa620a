// The rows of the benchmark, one entry each, in the order the report lists them: what it is, how it
// is built and started, where it listens and what answers once it is up. scripts/bench.ts starts
// them all in one loop; a row whose toolchain is missing, or that fails to build or start, is
// skipped with the reason in the report (but the required ones: without them nothing compares).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Settings } from "./settings.ts";
import { cleanEnv } from "./servers.ts";

/** What the rows are built and started with: found or built once by scripts/bench.ts. */
export interface Host {
  root: string;
  /** node_modules/.bin */
  bin: string;
  bun: string;
  /** The native deno executable, if any (not npm's node wrapper around it). */
  deno?: string;
  /** dist/printerfacts */
  binary: string;
  /** .bench: what the bench builds (load client, peers, the work file). */
  buildDir: string;
  workFile: string;
  nginx?: string;
  settings: Settings;
  /** printerfacts' production settings, and the same with the access log off. */
  prodEnv: Record<string, string>;
  nologEnv: Record<string, string>;
  /** SOCKGROUP for a socket nginx's workers connect to, when they run as another user. */
  groupEnv: Record<string, string>;
  scripts: Record<string, string>;
  run(cmd: string[], what: string): string;
  which(cmd: string): string | undefined;
}

interface Row {
  key: string;
  label: string | ((h: Host) => string);
  /** Does printerfacts' work for /fact: checked to answer as printerfacts does before measuring. */
  sameWork?: true;
  /** Measured right before or after another row in every round, as a target compares the two. */
  nextTo?: { key: string; side: "before" | "after" };
  /** Whether the row exists in this run (one an option adds); unlisted in the report when not. */
  when?: (h: Host) => boolean;
}

/** A row that is one server of its own (which another row may also stand in front of). */
export interface ServerRow extends Row {
  /** Why it cannot run here (a tool missing), checked before building; undefined when it can. */
  needs?: (h: Host) => string | undefined;
  /** Builds what it runs, if anything (a throw skips the row with the reason), and gives its command. */
  command: (h: Host) => string[];
  /** Its environment; the bench adds where to listen (SOCKPATH, or HOST and PORT). */
  env?: (h: Host) => Record<string, string>;
  cwd?: (h: Host) => string;
  /** A path that answers 200 once it is up. */
  ready: "/fact" | "/healthz" | "/";
  /** On 127.0.0.1; else on a Unix socket named after its key. */
  tcp?: true;
  /** Without it the bench cannot compare anything: its failure to start ends the run. */
  required?: true;
}

/** A row served by the bench's nginx (scripts/bench/nginx.conf): itself, or in front of a server. */
export interface NginxRow extends Row {
  nginx: { upstream?: string };
}

export type Contestant = ServerRow | NginxRow;

const ceiling = (h: Host) => join(h.root, "scripts", "bench", "ceiling.ts");
const baseline = (h: Host) => join(h.root, "scripts", "bench", "baseline.ts");
const peers = (h: Host) => join(h.root, "scripts", "bench", "peers");
const work = (h: Host) => ({ WORK_FILE: h.workFile });
/** Node and Deno run the way package.json runs them, exec'd so the pid measured is the runtime's. */
const viaScript = (script: string) => ["sh", "-c", `exec ${script.replace(/^exec /, "")}`];
/** scripts/deno-run runs $DENO: the same native deno for every Deno row, this checkout's or before's. */
const denoEnv = (h: Host) => ({ PATH: `${h.bin}:${process.env.PATH}`, ...(h.deno ? { DENO: h.deno } : {}) });
const noDeno = (h: Host) => (h.deno ? undefined : "deno is not installed (npm ci installs it)");
const before = (h: Host) => resolve(h.settings.BENCH_BEFORE ?? "");
const installed = (pkg: string) => (h: Host) =>
  existsSync(join(h.root, "node_modules", pkg)) ? undefined : `${pkg} is not installed (npm ci installs it)`;
const debianHyper = () =>
  existsSync("/usr/share/cargo/registry") &&
  readdirSync("/usr/share/cargo/registry").some((d) => d.startsWith("hyper-0.14"));

/** The hyper peer, built offline against Debian's crates: no crates.io access needed. */
function buildHyper(h: Host): string {
  const cargoHome = join(h.buildDir, "cargo-home");
  mkdirSync(cargoHome, { recursive: true });
  writeFileSync(
    join(cargoHome, "config.toml"),
    '[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "/usr/share/cargo/registry"\n[net]\noffline = true\n',
  );
  const target = join(h.buildDir, "hyper-target");
  const manifest = join(peers(h), "hyper", "Cargo.toml");
  const built = spawnSync(
    h.which("cargo") ?? "cargo",
    ["build", "--release", "--offline", "--manifest-path", manifest],
    {
      encoding: "utf8",
      env: cleanEnv({ CARGO_HOME: cargoHome, CARGO_TARGET_DIR: target }),
    },
  );
  if (built.status !== 0) throw new Error(`cargo build failed: ${built.stderr.trim().split("\n").slice(-5).join(" ")}`);
  return join(target, "release", "printerfacts-peer-hyper");
}

export const CONTESTANTS: Contestant[] = [
  {
    key: "baseline",
    label: "Bun.serve doing the same work (Bun's ceiling; baseline)",
    command: (h) => [h.bun, ceiling(h)],
    env: work,
    ready: "/fact",
    sameWork: true,
    required: true,
  },
  {
    // What the log line costs the ceiling itself, beside what the access log costs printerfacts.
    key: "ceiling-nolog",
    label: "Bun.serve doing the same work but the log line",
    command: (h) => [h.bun, ceiling(h)],
    env: (h) => ({ ...work(h), CEILING_LOG: "off" }),
    ready: "/fact",
  },
  {
    key: "ceiling-deno",
    label: "Deno.serve doing the same work (Deno's ceiling)",
    needs: noDeno,
    command: (h) => [h.deno ?? "deno", "run", "--allow-all", ceiling(h)],
    env: work,
    ready: "/fact",
    sameWork: true,
    nextTo: { key: "deno", side: "before" },
  },
  {
    key: "bare-bun",
    label: "bare Bun.serve: the fact only, no headers, id, log or metrics",
    command: (h) => [h.bun, baseline(h)],
    ready: "/",
  },
  {
    key: "bare-hono",
    label: "bare Hono on Bun.serve: the fact only, one route, no middleware",
    command: (h) => [h.bun, baseline(h)],
    env: () => ({ BASELINE_FRAMEWORK: "hono" }),
    ready: "/fact",
  },
  {
    key: "binary-unix",
    label: "dist/printerfacts, unix",
    command: (h) => [h.binary],
    env: (h) => ({ ...h.prodEnv, ...h.groupEnv }),
    ready: "/healthz",
    sameWork: true,
    required: true,
  },
  {
    key: "binary-unix-nolog",
    label: "dist/printerfacts, unix, access log off",
    command: (h) => [h.binary],
    env: (h) => h.nologEnv,
    ready: "/healthz",
  },
  {
    key: "binary-tcp",
    label: "dist/printerfacts, TCP 127.0.0.1",
    command: (h) => [h.binary],
    env: (h) => h.prodEnv,
    ready: "/healthz",
    tcp: true,
    required: true,
  },
  {
    key: "bun-src",
    label: "bun src/main.ts, unix",
    command: (h) => [h.bun, join(h.root, "src", "main.ts")],
    env: (h) => h.prodEnv,
    ready: "/healthz",
    sameWork: true,
  },
  {
    key: "node",
    label: "Node (npm run start:node), unix",
    needs: (h) =>
      existsSync(join(h.root, "dist", "node", "printerfacts.mjs")) ? undefined : "npm run build:node has not run",
    command: (h) => viaScript(h.scripts["start:node"]),
    env: (h) => h.prodEnv,
    ready: "/healthz",
    sameWork: true,
  },
  {
    key: "deno",
    label: "Deno (npm run start:deno), unix",
    needs: noDeno,
    command: (h) => viaScript(h.scripts["start:deno"]),
    env: (h) => ({ ...h.prodEnv, ...denoEnv(h) }),
    ready: "/healthz",
    sameWork: true,
  },
  {
    // BENCH_COMPARE: another printerfacts binary, e.g. one built before a change.
    key: "compare",
    label: (h) => `${h.settings.BENCH_COMPARE_LABEL ?? h.settings.BENCH_COMPARE}, unix`,
    when: (h) => h.settings.BENCH_COMPARE !== undefined,
    command: (h) => [resolve(h.settings.BENCH_COMPARE ?? "")],
    env: (h) => h.prodEnv,
    ready: "/healthz",
  },
  // The peers a user might pick instead, each doing the same work (scripts/bench/work.ts).
  {
    key: "go",
    label: "Go net/http (peer)",
    needs: (h) => (h.which("go") ? undefined : "Go is not installed (apt-get install golang-go)"),
    command: (h) => {
      const out = join(h.buildDir, "peer-go");
      h.run(["go", "build", "-o", out, join(peers(h), "go", "main.go")], "go build");
      return [out];
    },
    env: work,
    ready: "/fact",
    sameWork: true,
  },
  {
    key: "hyper",
    label: "Rust hyper 0.14 + tokio, one thread (peer)",
    needs: (h) =>
      !h.which("cargo")
        ? "cargo is not installed (apt-get install cargo)"
        : !debianHyper()
          ? "Debian's hyper 0.14 crate sources are not installed (apt-get install librust-hyper-dev librust-tokio-dev librust-rand-dev)"
          : undefined,
    command: (h) => [buildHyper(h)],
    // 0666 for nginx's workers (nginx-hyper): the run directory, open to nginx's group only, keeps others out.
    env: (h) => ({ ...work(h), SOCKMODE: "666" }),
    ready: "/fact",
    sameWork: true,
  },
  {
    key: "fastify",
    label: "Fastify on Node (peer)",
    needs: installed("fastify"),
    command: (h) => {
      const out = join(h.buildDir, "peer-fastify.mjs");
      const entry = join(peers(h), "fastify.ts");
      h.run([h.bun, "build", entry, "--target=node", "--packages=external", "--outfile", out], "bundling Fastify");
      return ["node", out];
    },
    env: work,
    ready: "/fact",
    sameWork: true,
  },
  {
    key: "elysia",
    label: "Elysia on Bun (peer)",
    needs: installed("elysia"),
    command: (h) => [h.bun, join(peers(h), "elysia.ts")],
    env: work,
    ready: "/fact",
    sameWork: true,
  },
  // BENCH_BEFORE (npm run pretest done there): its binary, Node bundle and Deno, each measured
  // right after this build's, so "no slower than before" is one run's paired ratio.
  {
    key: "before-binary",
    label: "before: dist/printerfacts, unix",
    when: (h) => h.settings.BENCH_BEFORE !== undefined,
    command: (h) => [join(before(h), "dist", "printerfacts")],
    cwd: before,
    env: (h) => h.prodEnv,
    ready: "/healthz",
    nextTo: { key: "binary-unix", side: "after" },
  },
  {
    key: "before-node",
    label: "before: Node, unix",
    when: (h) => h.settings.BENCH_BEFORE !== undefined,
    command: (h) => viaScript(`node --enable-source-maps ${join(before(h), "dist", "node", "printerfacts.mjs")}`),
    cwd: before,
    env: (h) => h.prodEnv,
    ready: "/healthz",
    nextTo: { key: "node", side: "after" },
  },
  {
    key: "before-deno",
    label: "before: Deno, unix",
    when: (h) => h.settings.BENCH_BEFORE !== undefined,
    needs: noDeno,
    command: (h) => viaScript(join(before(h), "scripts", "deno-run")),
    cwd: before,
    env: (h) => ({ ...h.prodEnv, ...denoEnv(h) }),
    ready: "/healthz",
    nextTo: { key: "deno", side: "after" },
  },
  // One nginx (one worker, as a small host) serves these, each on a port of its own.
  { key: "nginx-return", label: "nginx return 200 (native ceiling)", nginx: {} },
  { key: "nginx-unix", label: "nginx → dist/printerfacts, unix", nginx: { upstream: "binary-unix" } },
  { key: "nginx-tcp", label: "nginx → dist/printerfacts, TCP keepalive", nginx: { upstream: "binary-tcp" } },
  // The original printerfacts' stack behind the production path, beside nginx-unix.
  { key: "nginx-hyper", label: "nginx → Rust hyper peer, unix", nginx: { upstream: "hyper" } },
];

export const labelOf = (c: Contestant, h: Host) => (typeof c.label === "string" ? c.label : c.label(h));
export const isNginxRow = (c: Contestant): c is NginxRow => "nginx" in c;

/**
 * The nginx config for every nginx row, from scripts/bench/nginx.conf: each row key between
 * at-signs becomes that row's address (its port, or its server's socket); RUN, the run directory.
 */
export function nginxConf(template: string, fill: Record<string, string>): string {
  return template.replace(/@([\w-]+)@/g, (whole, name: string) => {
    if (fill[name] === undefined) throw new Error(`scripts/bench/nginx.conf: nothing to fill in for ${whole}`);
    return fill[name];
  });
}

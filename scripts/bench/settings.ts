// The bench's settings, each described once: its variable, default and meaning. The parsing, the
// --help text and the command printed at the top of BENCHMARKS.md all come from this table.

type Kind = "number" | "count" | "flag" | "text";

interface Setting {
  kind: Kind;
  /** As it would be written in the environment; none: unset unless given. */
  default?: string;
  about: string;
  /** false: it changes where the report goes or what is kept, not what is measured. */
  printed?: boolean;
}

export const SETTINGS = {
  BENCH_SECONDS: { kind: "number", default: "3", about: "seconds per measurement" },
  BENCH_ROUNDS: { kind: "count", default: "12", about: "rounds: every row measured once in each" },
  BENCH_PROCESSES: {
    kind: "count",
    default: "4",
    about: "fresh processes of each server the rounds are split among",
  },
  BENCH_CONNECTIONS: { kind: "count", default: "50", about: "keep-alive connections of the load client" },
  BENCH_WARMUP: { kind: "number", default: "2", about: "seconds of warm-up per row and process" },
  BENCH_STARTUP_RUNS: { kind: "count", default: "11", about: "start-to-first-response runs of the binary" },
  BENCH_RSS_REQUESTS: {
    kind: "count",
    default: "1000000",
    about: "requests for the memory-growth check (RSS read after a tenth and after all); 0 skips it",
  },
  BENCH_PIN: {
    kind: "flag",
    default: "1",
    about: "1: servers on core 0, the load client on core 1 (taskset); 0: as the kernel likes",
  },
  BENCH_ONLY: { kind: "text", about: "comma-separated row keys to run (the baseline always runs)" },
  BENCH_BEFORE: {
    kind: "text",
    about: "a built checkout with its own node_modules: its binary, Node and Deno run alongside",
  },
  BENCH_COMPARE: { kind: "text", about: "another printerfacts binary to run alongside, same settings" },
  BENCH_COMPARE_LABEL: { kind: "text", about: "BENCH_COMPARE's name in the table (default: its path)" },
  BENCH_MIDDLEWARE: { kind: "flag", default: "1", about: "the in-process Hono middleware table" },
  BENCH_BUILD: { kind: "flag", default: "1", about: "npm run build and build:node first", printed: false },
  BENCH_OUT: {
    kind: "text",
    default: "BENCHMARKS.md",
    about: 'where the report goes; "-" prints only',
    printed: false,
  },
  BENCH_KEEP: {
    kind: "flag",
    default: "0",
    about: "keep the run directory (sockets, logs, nginx.conf)",
    printed: false,
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<S> = S extends { kind: "number" | "count" }
  ? number
  : S extends { kind: "flag" }
    ? boolean
    : S extends { default: string }
      ? string
      : string | undefined;
export type Settings = { [N in SettingName]: ValueOf<(typeof SETTINGS)[N]> };

const given = (env: Record<string, string | undefined>, name: string) =>
  env[name] === undefined || env[name] === "" ? undefined : env[name];

function parse(name: string, setting: Setting, text: string | undefined): number | boolean | string | undefined {
  const value = text ?? setting.default;
  if (setting.kind === "text") return value;
  if (setting.kind === "flag") {
    if (value !== "0" && value !== "1") throw new Error(`${name}=${value} must be 0 or 1`);
    return value === "1";
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (setting.kind === "count" && !Number.isInteger(n)))
    throw new Error(`${name}=${value} must be ${setting.kind === "count" ? "a whole number" : "a number"} ≥ 0`);
  return n;
}

/** The settings from the environment; a bad value throws naming the variable and what is allowed. */
export function readSettings(env: Record<string, string | undefined>): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][])
    out[name] = parse(name, setting, given(env, name));
  const settings = out as Settings;
  for (const name of ["BENCH_ROUNDS", "BENCH_PROCESSES", "BENCH_CONNECTIONS", "BENCH_STARTUP_RUNS"] as const)
    if (settings[name] < 1) throw new Error(`${name}=${settings[name]} must be at least 1`);
  return settings;
}

/** Whether these settings measure less than a full run does (fewer or shorter rounds). */
export function isQuick(settings: Settings): boolean {
  return (["BENCH_SECONDS", "BENCH_ROUNDS", "BENCH_PROCESSES"] as const).some(
    (name) => settings[name] < Number(SETTINGS[name].default),
  );
}

const shellWord = (text: string) => (/^[\w./,:=-]*$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);

/** The command that measures the same again: every setting given that differs from its default. */
export function command(env: Record<string, string | undefined>): string {
  const words: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS) as [string, Setting][]) {
    const value = given(env, name);
    if (setting.printed === false || value === undefined || value === setting.default) continue;
    words.push(`${name}=${shellWord(value)}`);
  }
  return [...words, "npm run bench"].join(" ");
}

/** bun scripts/bench.ts --help */
export function usage(): string {
  const width = Math.max(...Object.keys(SETTINGS).map((name) => name.length));
  const lines = (Object.entries(SETTINGS) as [string, Setting][]).map(
    ([name, s]) => `  ${name.padEnd(width)}  ${s.about}${s.default === undefined ? "" : ` (${s.default})`}`,
  );
  return [
    "npm run bench: every row side by side, the same load at each; writes BENCHMARKS.md.",
    "Settings (environment):",
    ...lines,
  ].join("\n");
}

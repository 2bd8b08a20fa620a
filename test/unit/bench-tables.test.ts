// The bench's two tables: its settings (parsed, and printed back as the command that measures the
// same again) and its rows (each reference in them names a row that exists).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONTESTANTS, isNginxRow, nginxConf } from "../../scripts/bench/contestants.ts";
import { command, isQuick, readSettings, SETTINGS, usage } from "../../scripts/bench/settings.ts";

const ROOT = join(import.meta.dir, "..", "..");

describe("the settings table", () => {
  test("unset, every setting takes its default", () => {
    const s = readSettings({});
    expect(s.BENCH_SECONDS).toBe(3);
    expect(s.BENCH_ROUNDS).toBe(12);
    expect(s.BENCH_PROCESSES).toBe(4);
    expect(s.BENCH_PIN).toBe(true);
    expect(s.BENCH_KEEP).toBe(false);
    expect(s.BENCH_OUT).toBe("BENCHMARKS.md");
    expect(s.BENCH_BEFORE).toBeUndefined();
    expect(isQuick(s)).toBe(false);
  });

  test("a bad value names the variable and what is allowed", () => {
    expect(() => readSettings({ BENCH_SECONDS: "fast" })).toThrow("BENCH_SECONDS=fast must be a number ≥ 0");
    expect(() => readSettings({ BENCH_ROUNDS: "2.5" })).toThrow("BENCH_ROUNDS=2.5 must be a whole number ≥ 0");
    expect(() => readSettings({ BENCH_ROUNDS: "0" })).toThrow("BENCH_ROUNDS=0 must be at least 1");
    expect(() => readSettings({ BENCH_PIN: "yes" })).toThrow("BENCH_PIN=yes must be 0 or 1");
  });

  test("npm run bench:quick's settings make a quick run", () => {
    const quick = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts["bench:quick"] as string;
    const env = Object.fromEntries([...quick.matchAll(/(BENCH_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(isQuick(readSettings(env))).toBe(true);
  });

  test("the printed command gives every setting that changes what is measured, and only those", () => {
    expect(command({})).toBe("npm run bench");
    // BENCH_ROUNDS=8 is not the default: copied, the command must run 8 rounds.
    expect(
      command({ BENCH_ROUNDS: "8", BENCH_SECONDS: "3", BENCH_PROCESSES: "2", BENCH_OUT: "-", BENCH_KEEP: "1" }),
    ).toBe("BENCH_ROUNDS=8 BENCH_PROCESSES=2 npm run bench");
    expect(command({ BENCH_BEFORE: "/tmp/before", BENCH_COMPARE_LABEL: "it's old" })).toBe(
      "BENCH_BEFORE=/tmp/before BENCH_COMPARE_LABEL='it'\\''s old' npm run bench",
    );
  });

  test("--help lists every setting with its default", () => {
    const help = usage();
    for (const [name, s] of Object.entries(SETTINGS)) {
      const line = help.split("\n").find((l) => l.trim().startsWith(`${name} `));
      expect(line).toEndWith(`${s.about}${"default" in s ? ` (${s.default})` : ""}`);
    }
  });
});

describe("the rows table", () => {
  const keys = CONTESTANTS.map((c) => c.key);

  test("keys are unique, and the baseline comes first", () => {
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[0]).toBe("baseline");
  });

  test("every row an nginx row stands in front of, or is measured next to, exists", () => {
    for (const c of CONTESTANTS) {
      if (isNginxRow(c) && c.nginx.upstream) {
        const upstream = CONTESTANTS.find((u) => u.key === c.nginx.upstream);
        expect(upstream && !isNginxRow(upstream)).toBe(true);
      }
      if (c.nextTo) expect(keys).toContain(c.nextTo.key);
    }
  });

  test("nginx.conf names only rows, and has a server for every nginx row", () => {
    const template = readFileSync(join(ROOT, "scripts", "bench", "nginx.conf"), "utf8");
    const fill = Object.fromEntries([...keys, "RUN", "USER", "FACT"].map((k) => [k, `<${k}>`]));
    const conf = nginxConf(template, fill);
    for (const c of CONTESTANTS.filter(isNginxRow)) expect(conf).toContain(`listen <${c.key}>;`);
    expect(() => nginxConf(template, { RUN: "/run" })).toThrow("nothing to fill in for @");
  });
});

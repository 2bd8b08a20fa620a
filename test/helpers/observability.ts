// Reading what a real printerfacts process says about its requests: access-log lines on stdout
// and the Prometheus text on /metrics.
import type { AccessRecord } from "../../src/observe/access-log.ts";
import { eventually } from "./eventually.ts";
import type { Running } from "./server.ts";

/** The JSON access-log lines written so far (LOG_FORMAT=json). */
export function jsonLines(proc: Running): AccessRecord[] {
  return proc
    .stdout()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/** Wait until `count` lines are on stdout (they are written in batches, every 100 ms at most). */
export async function waitForLines(proc: Running, count: number, timeoutMs = 5000): Promise<string[]> {
  return eventually(
    () => {
      const lines = proc
        .stdout()
        .split("\n")
        .filter((line) => line !== "");
      return lines.length >= count && lines;
    },
    { what: () => `${count} lines on stdout; got:\n${proc.stdout()}`, timeoutMs },
  );
}

/** SIGTERM, then the exit code. */
export async function stop(proc: Running): Promise<number> {
  proc.kill("SIGTERM");
  return proc.exited;
}

/** One sample's value from Prometheus text, or undefined if the series is absent. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Pipe Prometheus text through `promtool check metrics` (Debian package prometheus). */
export async function promtoolCheck(metrics: string): Promise<{ exitCode: number; output: string }> {
  const proc = Bun.spawn(["promtool", "check", "metrics"], {
    stdin: new Blob([metrics]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, output: out + err };
}

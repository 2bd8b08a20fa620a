// Sustained, bounded load on the compiled binary over its Unix socket: a mix of every route,
// JSON and text, 404s, 405s, bad ids and a malformed request now and then. Samples the server's
// RSS and fails unless there were no errors and memory stayed flat.
//
//   npm run soak                       (10 minutes)
//   SOAK_SECONDS=90 npm run soak       SOAK_CLIENTS (default 4), SOAK_RATE (requests/s, default 1000)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { rawExchange } from "../test/helpers/raw.ts";
import { BINARY, fetchUnix, startListening, tempDir } from "../test/helpers/server.ts";

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const clients = Number(process.env.SOAK_CLIENTS ?? 4);
const rate = Number(process.env.SOAK_RATE ?? 1000);
const sampleEvery = Math.max(1, Math.min(10, Math.floor(seconds / 20))) * 1000;
/** Memory is flat if the last quarter's median RSS is within 10% (and 8 MiB) of the second quarter's. */
const GROWTH_RATIO = 1.1;
const GROWTH_SLACK_KB = 8 * 1024;

const requests: [string, Record<string, string>, number][] = [
  ["/fact", {}, 200],
  ["/fact", { Accept: "application/json" }, 200],
  ["/facts/7", {}, 200],
  ["/facts/7", { Accept: "application/json" }, 200],
  ["/", { Accept: "text/html" }, 200],
  ["/healthz", {}, 200],
  ["/facts/abc", {}, 400],
  ["/nope", { Accept: "text/html" }, 404],
];
const MALFORMED_EVERY = 100;

function rssKb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : Number.NaN;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = tempDir();
const sock = join(dir.path, "soak.sock");
// The access log (stdout) goes to /dev/null, as it would to journald: collected here, it would
// grow this process without bound. exec keeps the pid the server's, for the RSS samples.
const server = await startListening(["sh", "-c", 'exec "$0" >/dev/null', BINARY], { SOCKPATH: sock });
const counts = { ok: 0, errors: 0 };
const errors = new Map<string, number>();
const fail = (what: string) => {
  counts.errors++;
  errors.set(what, (errors.get(what) ?? 0) + 1);
};

const started = Date.now();
const deadline = started + seconds * 1000;
const perClientInterval = (1000 * clients) / rate;
const samples: { t: number; rss: number; total: number }[] = [];
const sampler = setInterval(() => {
  samples.push({ t: (Date.now() - started) / 1000, rss: rssKb(server.pid), total: counts.ok + counts.errors });
  const s = samples[samples.length - 1];
  console.log(
    `${s.t.toFixed(0)} s: ${s.total} requests, ${counts.errors} errors, RSS ${(s.rss / 1024).toFixed(1)} MiB`,
  );
}, sampleEvery);

async function client(n: number) {
  let i = n;
  let next = Date.now();
  while (Date.now() < deadline) {
    i++;
    try {
      if (i % MALFORMED_EVERY === 0) {
        const { responses } = await rawExchange(sock, "GET /fa\0ct HTTP/1.1\r\nHost: x\r\n\r\n");
        if (responses[0]?.status === 505) counts.ok++;
        else fail(`malformed request: ${responses[0]?.status}`);
      } else {
        const [path, headers, status] = requests[i % requests.length];
        const res = await fetchUnix(sock, path, { headers });
        await res.arrayBuffer();
        if (res.status === status) counts.ok++;
        else fail(`${path}: ${res.status}`);
      }
    } catch (err) {
      fail(`${(err as Error).name}: ${(err as Error).message}`);
    }
    next += perClientInterval;
    const wait = next - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    else if (wait < -1000) next = Date.now(); // fell behind: don't burst to catch up
  }
}

await Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
clearInterval(sampler);
const elapsed = (Date.now() - started) / 1000;
const finalRss = rssKb(server.pid);
server.kill("SIGTERM");
const exitCode = await server.exited;
dir.cleanup();

const q = Math.floor(samples.length / 4);
const warm = median(samples.slice(q, 2 * q).map((s) => s.rss));
const late = median(samples.slice(3 * q).map((s) => s.rss));
const flat = samples.length >= 8 && late <= Math.max(warm * GROWTH_RATIO, warm + GROWTH_SLACK_KB);
const total = counts.ok + counts.errors;
console.log(
  `\nsoak: ${elapsed.toFixed(0)} s, ${clients} clients, ${total} requests (${(total / elapsed).toFixed(0)}/s), ${counts.errors} errors`,
);
for (const [what, n] of errors) console.log(`  error x${n}: ${what}`);
console.log(
  `RSS: min ${(Math.min(...samples.map((s) => s.rss)) / 1024).toFixed(1)} MiB, max ${(Math.max(...samples.map((s) => s.rss)) / 1024).toFixed(1)} MiB, ` +
    `second-quarter median ${(warm / 1024).toFixed(1)} MiB, last-quarter median ${(late / 1024).toFixed(1)} MiB, at the end ${(finalRss / 1024).toFixed(1)} MiB: ${flat ? "flat" : "GROWING (or too few samples)"}`,
);
console.log(`server exit code after SIGTERM: ${exitCode}`);
process.exit(counts.errors === 0 && flat && exitCode === 0 ? 0 : 1);

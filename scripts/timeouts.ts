// Measures when the server really cuts off idle and stalled connections, for each IDLE_TIMEOUT
// given: the numbers behind the README's "Reliability" table. Not a test: it takes a minute.
//
//   npm run build && bun scripts/timeouts.ts [IDLE_TIMEOUT ...]     (default: 5 30)
//   TIMEOUTS_MAX_SECONDS=60 to wait longer; TIMEOUTS_TCP=1 to measure on TCP instead of a socket;
//   TIMEOUTS_RUNTIME=node or deno for another runtime (after npm run build:node for node).
import { join } from "node:path";
import { openRaw, STALLS, type Target } from "../test/helpers/raw.ts";
import { ENTRIES, type Entry, loggedPort, type Running, startListening, tempDir } from "../test/helpers/server.ts";

const maxSeconds = Number(process.env.TIMEOUTS_MAX_SECONDS ?? 45);
const overTcp = process.env.TIMEOUTS_TCP === "1";
const runtime = process.env.TIMEOUTS_RUNTIME ?? "bun";
const entry = (Object.keys(ENTRIES) as Entry[]).find((name) =>
  runtime === "bun" ? name === "binary" : name.startsWith(runtime),
);
if (entry === undefined) throw new Error(`TIMEOUTS_RUNTIME=${runtime}: must be bun, node or deno`);
const idleTimeouts = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["5", "30"];

async function measure(target: Target, send: string, drip?: string): Promise<string> {
  const conn = await openRaw(target);
  if (send) await conn.write(send);
  const dripper = drip ? setInterval(() => conn.write(drip).catch(() => {}), 1000) : undefined;
  const outcome = await Promise.race([conn.closed, Bun.sleep(maxSeconds * 1000).then(() => undefined)]);
  clearInterval(dripper);
  conn.destroy();
  const answer = conn.received().split("\r\n")[0] || "nothing";
  return outcome
    ? `closed after ${(outcome.ms / 1000).toFixed(1)} s (answer: ${answer})`
    : `still open after ${maxSeconds} s (answer: ${answer})`;
}

const dir = tempDir();
const servers: Running[] = [];
try {
  const runs = idleTimeouts.map(async (idle) => {
    const env: Record<string, string> = { IDLE_TIMEOUT: idle };
    const sock = join(dir.path, `t${idle}.sock`);
    if (overTcp) Object.assign(env, { PORT: String(20_000 + Number(idle)), HOST: "127.0.0.1" });
    else env.SOCKPATH = sock;
    const server = await startListening(ENTRIES[entry], env);
    servers.push(server);
    const target: Target = overTcp ? loggedPort(server) : sock;
    const results = await Promise.all(Object.values(STALLS).map(({ send, drip }) => measure(target, send, drip)));
    return Object.keys(STALLS).map(
      (name, i) => `${runtime} IDLE_TIMEOUT=${idle} ${overTcp ? "tcp" : "unix"}: ${name}: ${results[i]}`,
    );
  });
  for (const lines of await Promise.all(runs)) console.log(lines.join("\n"));
} finally {
  for (const server of servers) server.kill("SIGKILL");
  dir.cleanup();
}

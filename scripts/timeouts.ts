// Measures when the server really cuts off idle and stalled connections, for each IDLE_TIMEOUT
// given: the numbers behind the README's "Reliability" table. Not a test: it takes a minute.
//
//   npm run build && bun scripts/timeouts.ts [IDLE_TIMEOUT ...]     (default: 5 30)
//   TIMEOUTS_MAX_SECONDS=60 to wait longer; TIMEOUTS_TCP=1 to measure on TCP instead of a socket.
import { join } from "node:path";
import { openRaw, type Target } from "../test/helpers/raw.ts";
import { BINARY, loggedPort, type Running, startListening, tempDir } from "../test/helpers/server.ts";

const maxSeconds = Number(process.env.TIMEOUTS_MAX_SECONDS ?? 45);
const overTcp = process.env.TIMEOUTS_TCP === "1";
const idleTimeouts = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["5", "30"];

/** Each way a client can leave a connection hanging: what it sends first, then what it drips. */
const stalls: Record<string, { send: string; drip?: string }> = {
  "connects, sends nothing": { send: "" },
  "half a request line": { send: "GET /fa" },
  "headers without the blank line": { send: "GET /fact HTTP/1.1\r\nHost: x\r\n" },
  "headers, one byte a second": { send: "GET /fact HTTP/1.1\r\nHost: x\r\n", drip: "X" },
  "10 of 100 body bytes": { send: "POST /fact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789" },
  "body, one byte a second": { send: "POST /fact HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", drip: "b" },
  "idle keep-alive after a response": { send: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" },
};

async function measure(target: Target, send: string, drip?: string): Promise<string> {
  const conn = await openRaw(target);
  if (send) await conn.write(send);
  const dripper = drip ? setInterval(() => conn.write(drip).catch(() => {}), 1000) : undefined;
  const outcome = await Promise.race([conn.closed, Bun.sleep(maxSeconds * 1000).then(() => undefined)]);
  clearInterval(dripper);
  conn.destroy();
  const answer = conn.received().split("\r\n")[0] || "nothing";
  return outcome ? `closed after ${(outcome.ms / 1000).toFixed(1)} s (answer: ${answer})` : `still open after ${maxSeconds} s (answer: ${answer})`;
}

const dir = tempDir();
const servers: Running[] = [];
try {
  const runs = idleTimeouts.map(async (idle) => {
    const env: Record<string, string> = { IDLE_TIMEOUT: idle };
    const sock = join(dir.path, `t${idle}.sock`);
    if (overTcp) Object.assign(env, { PORT: String(20_000 + Number(idle)), HOST: "127.0.0.1" });
    else env.SOCKPATH = sock;
    const server = await startListening([BINARY], env);
    servers.push(server);
    const target: Target = overTcp ? loggedPort(server) : sock;
    const results = await Promise.all(Object.values(stalls).map(({ send, drip }) => measure(target, send, drip)));
    return Object.keys(stalls).map((name, i) => `IDLE_TIMEOUT=${idle} ${overTcp ? "tcp" : "unix"}: ${name}: ${results[i]}`);
  });
  for (const lines of await Promise.all(runs)) console.log(lines.join("\n"));
} finally {
  for (const server of servers) server.kill("SIGKILL");
  dir.cleanup();
}

// systemd socket activation: Node and Deno serve on the socket systemd passes as fd 3, and leave it
// to systemd; Bun refuses loudly. systemd-socket-activate passes the socket as a .socket unit would.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { rawExchange } from "./helpers/raw.ts";
import {
  asService,
  BUN,
  curl,
  denoRun,
  freePort,
  NODE_BUNDLE,
  ROOT,
  SERVICE,
  serviceEnv,
  start,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

/**
 * Listen on `address` like a .socket unit (as root, as systemd does), and start `command` with it
 * on the first connection, as the service user. It passes on only the variables --setenv names.
 */
function activate(address: string, command: readonly string[]) {
  const env = Object.entries({ ...serviceEnv(), SHUTDOWN_TIMEOUT: "4" }).map(([k, v]) => `--setenv=${k}=${v}`);
  return start(["systemd-socket-activate", `--listen=${address}`, ...env, ...asService(command)]);
}

async function where(transport: "unix" | "tcp") {
  if (transport === "unix") {
    const socket = dir.socketPath("a");
    return { address: socket, socket, base: "http://x", raw: socket };
  }
  const port = await freePort();
  return { address: `127.0.0.1:${port}`, socket: undefined, base: `http://127.0.0.1:${port}`, raw: port };
}

const ADOPTERS = {
  "node dist/node/printerfacts.mjs": ["node", NODE_BUNDLE],
  "deno (scripts/deno-run)": denoRun(),
};

describe.each(Object.keys(ADOPTERS) as (keyof typeof ADOPTERS)[])("%s", (entry) => {
  test.each(["unix", "tcp"] as const)(
    "serves on the %s socket systemd passed, and leaves it in place on exit",
    async (transport) => {
      const at = await where(transport);
      const proc = activate(at.address, ADOPTERS[entry]);
      await waitForLog(proc, `Listening on ${at.address} as 3.`);
      // The first connection starts the service; it is answered once the service accepts it.
      const first = await curl(`${at.base}/healthz`, { socket: at.socket });
      expect([first.status, first.body]).toEqual([200, "ok\n"]);
      const json = await curl(`${at.base}/facts/1`, { socket: at.socket, args: ["-H", "Accept: application/json"] });
      expect(JSON.parse(json.body)).toMatchObject({ id: 1 });
      // node:http joins two Host headers, under Deno too: the app's own check answers them here.
      const twoHosts = await rawExchange(at.raw, "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
      expect(twoHosts.responses.map((r) => [r.status, r.body])).toEqual([[400, "more than one Host header\n"]]);
      expect(proc.stderr()).toContain("listening on the socket systemd passed (fd 3");
      // systemd-socket-activate became the service (exec), and the service runs as the service user.
      expect(statSync(`/proc/${proc.pid}`).uid).toBe(SERVICE.uid);

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(proc.stderr()).toContain("all requests finished");
      // The socket is systemd's: not unlinked, whatever it is.
      if (at.socket) expect(statSync(at.socket).isSocket()).toBe(true);
      expect(proc.stderr()).not.toContain("removed socket");
    },
  );
});

describe.each([
  ["binary", [join(ROOT, "dist/printerfacts")]],
  ["bun src/main.ts", [BUN, join(ROOT, "src/main.ts")]],
])("%s", (_entry, command) => {
  test("refuses a passed socket with a clear message and exit 1, serving nowhere else", async () => {
    const at = await where("unix");
    const proc = activate(at.address, command);
    await waitForLog(proc, `Listening on ${at.address} as 3.`);
    const res = await curl(`${at.base}/healthz`, { socket: at.socket });
    expect(res.status).toBe(0);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(
      "printerfacts error: Bun cannot serve on a socket passed by systemd (LISTEN_FDS): it would ignore the socket and listen somewhere else. Run printerfacts under Node or Deno",
    );
    expect(proc.stderr()).not.toContain("listening on");
    expect(existsSync(at.address)).toBe(true);
  });
});

// The service outlives its surroundings (issue 22, part B): its socket file removed or replaced,
// SIGTERM with connections left in every state, bodies still arriving at SIGTERM, clients that
// pipeline and never read. Each on the compiled binary, Node and Deno, over a real socket.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT_SOCKET_LOST } from "../src/listen/server.ts";
import { openRaw, type RawConnection, rawExchange } from "./helpers/raw.ts";
import { ENTRIES, type Running, startListening, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

/** The three ways the service ships: Bun's compiled binary, Node's bundle, Deno from source. */
const RUNTIMES = [
  ["bun", ENTRIES.binary],
  ["node", ENTRIES["node dist/node/printerfacts.mjs"]],
  ["deno", ENTRIES["deno (scripts/deno-run)"]],
] as const;

const HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

async function healthz(sock: string): Promise<number | undefined> {
  return (await rawExchange(sock, HEALTHZ)).responses[0]?.status;
}

/** Exit code and how long after `since` the process took to exit. */
async function exitTime(proc: Running, since: number): Promise<{ code: number; ms: number }> {
  const code = await proc.exited;
  return { code, ms: Date.now() - since };
}

describe.each(RUNTIMES)("%s: its socket file removed or replaced while serving", (_runtime, command) => {
  test.each([
    ["removed", (sock: string) => rmSync(sock), "gone (removed while serving)"],
    [
      "replaced by a regular file",
      (sock: string) => {
        rmSync(sock);
        writeFileSync(sock, "not a socket\n");
      },
      "now a regular file, not the socket we bound",
    ],
    [
      "its directory removed and made again",
      (sock: string) => {
        rmSync(join(sock, ".."), { recursive: true });
        mkdirSync(join(sock, ".."));
      },
      "gone (removed while serving)",
    ],
  ] as const)(
    "%s: one error line naming the path, then a drain and exit 75 for the unit to restart",
    async (_name, act, said) => {
      const sub = join(dir.path, `lost-${_runtime}-${_name.length}`);
      mkdirSync(sub, { mode: 0o755 });
      const sock = join(sub, "s.sock");
      const proc = await startListening(command, { SOCKPATH: sock });
      expect(await healthz(sock)).toBe(200);
      const acted = Date.now();
      act(sock);
      const { code, ms } = await exitTime(proc, acted);
      expect(code).toBe(EXIT_SOCKET_LOST);
      expect(ms).toBeLessThan(4000);
      const errors = proc
        .stderr()
        .split("\n")
        .filter((line) => line.startsWith("printerfacts error:"));
      expect(errors).toEqual([
        `printerfacts error: ${sock} is ${said}: no new client can reach this process; draining and exiting with status ${EXIT_SOCKET_LOST} to be started again`,
      ]);
      // At exit, what is there is said as it is, and left alone.
      if (_name.startsWith("replaced")) {
        expect(proc.stderr()).toContain(
          `${sock} is no longer the socket we bound (something else is there now); left it in place`,
        );
        expect(readFileSync(sock, "utf8")).toBe("not a socket\n");
      } else {
        expect(proc.stderr()).toContain(`printerfacts warn: ${sock} was already gone; nothing to remove`);
        expect(existsSync(sock)).toBe(false);
      }
    },
  );
});

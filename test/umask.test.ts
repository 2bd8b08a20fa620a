// The service sets every mode it needs itself, so any umask an operator (or a unit's UMask=) may
// set leaves it working, and its socket exactly SOCKMODE. Started as an unprivileged user, as an
// operator runs it, not as root (root could enter a 0600 directory; issue 13's EACCES hid there).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  BINARY,
  BUN,
  curl,
  denoRun,
  NODE_BUNDLE,
  ROOT,
  SERVICE,
  serviceDir,
  startListening,
  startService,
  tempDir,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

const UMASKS = ["0000", "0022", "0027", "0077", "0117"];
const ENTRIES: [string, string[], string[]][] = [
  ["binary", [BINARY], UMASKS],
  ["bun src/main.ts", [BUN, join(ROOT, "src/main.ts")], ["0077", "0117"]],
  ["node dist/node/printerfacts.mjs", ["node", NODE_BUNDLE], ["0077", "0117"]],
  ["deno (scripts/deno-run)", denoRun(), ["0077", "0117"]],
];

let n = 0;
/** A directory only the service user may write to, like /run/printerfacts for its unit. */
const ownDir = () => serviceDir(join(dir.path, `u${++n}`));

describe.each(ENTRIES)("%s", (_name, command, umasks) => {
  test.each(umasks)("as nobody under umask %s: serves, and the socket is exactly SOCKMODE", async (umask) => {
    for (const mode of ["0660", "0600"]) {
      const sock = join(ownDir(), "pf.sock");
      const proc = await startListening(command, { SOCKPATH: sock, SOCKMODE: mode }, { umask });
      const st = statSync(sock);
      expect([(st.mode & 0o7777).toString(8).padStart(4, "0"), st.uid, st.gid]).toEqual([
        mode,
        SERVICE.uid,
        SERVICE.gid,
      ]);
      const res = await curl("http://x/fact", { socket: sock });
      expect(res.status).toBe(200);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(proc.stderr()).toContain("removed socket");
    }
  });
});

test("a SOCKPATH directory the user may not write to: one line naming the fix, exit 1", async () => {
  const roots = join(dir.path, "roots");
  mkdirSync(roots, { mode: 0o755 }); // the test runs as root: root's
  const sock = join(roots, "not-the-service-users.sock");
  const proc = startService([BINARY], { SOCKPATH: sock });
  expect(await proc.exited).toBe(1);
  expect(proc.stderr()).toBe(
    `printerfacts error: cannot bind ${sock}: mkdir EACCES; this user (uid ${SERVICE.uid}) may not create files in ${roots}: give it that directory (under systemd: RuntimeDirectory=) or choose another SOCKPATH\n`,
  );
});

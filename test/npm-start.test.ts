// Every start script in package.json, run as the README runs it and stopped as a supervisor stops
// it: SIGTERM to the process it started (npm). npm passes the signal to its child, so that child
// must be the runtime itself (exec all the way down), which drains and removes its socket; nothing
// is left running. Without exec, npm's child is sh, which dies and leaves the server orphaned.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { curl, LISTENING, ROOT, start, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => {
  // When a test fails, a server may be left behind npm: the one whose environment names our temp dir.
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "utf8").includes(dir.path)) process.kill(Number(pid), "SIGKILL");
    } catch {}
  }
  dir.cleanup();
});

const SCRIPTS = [
  ["start", "bun"],
  ["start:node", "node"],
  ["start:deno", "deno"],
] as const;

test.each(SCRIPTS)(
  "npm run %s: SIGTERM to npm reaches %s, which drains, removes its socket and exits",
  async (script, runtime) => {
    const sock = dir.socketPath("npm");
    const npm = start(["npm", "run", "--silent", script], { SOCKPATH: sock }, ROOT);
    await waitForLog(npm, LISTENING, 30_000);
    // npm's only child is the runtime: no shell or node wrapper in between.
    const children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim().split(" ");
    expect(children.length).toBe(1);
    const child = Number(children[0]);
    expect(readFileSync(`/proc/${child}/comm`, "utf8").trim()).toBe(runtime);
    expect((await curl("http://x/healthz", { socket: sock })).status).toBe(200);

    npm.kill("SIGTERM");
    await npm.exited;
    for (let i = 0; i < 100 && existsSync(`/proc/${child}`); i++) await Bun.sleep(50);
    expect(existsSync(`/proc/${child}`)).toBe(false);
    for (const line of ["SIGTERM: shutting down", `removed socket ${sock}`, "all requests finished", "stopped"]) {
      expect(npm.stderr()).toContain(`printerfacts info: ${line}`);
    }
    expect(existsSync(sock)).toBe(false);
  },
  60_000,
);

// `npm run start:deno`, as the README runs it, stopped as a supervisor stops it: SIGTERM to the
// process it started (npm). npm passes the signal to its child, so that child must be deno itself
// (exec all the way down), which drains and removes its socket; nothing is left running.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { eventually } from "./helpers/eventually.ts";
import { curl, LISTENING, ROOT, start, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => {
  // When this test fails, a deno may be left behind npm: the one whose arguments name our temp dir.
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir.path)) process.kill(Number(pid), "SIGKILL");
    } catch {}
  }
  dir.cleanup();
});

test("npm run start:deno: SIGTERM to npm reaches deno, which drains, removes its socket and exits", async () => {
  const sock = dir.socketPath("npm");
  const npm = start(["npm", "run", "--silent", "start:deno"], { SOCKPATH: sock }, ROOT);
  await waitForLog(npm, LISTENING, 30_000);
  // npm's only child is deno: no shell or node wrapper in between.
  const children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim().split(" ");
  expect(children.length).toBe(1);
  const child = Number(children[0]);
  expect(readFileSync(`/proc/${child}/comm`, "utf8").trim()).toBe("deno");
  expect((await curl("http://x/healthz", { socket: sock })).status).toBe(200);

  npm.kill("SIGTERM");
  await npm.exited;
  await eventually(() => !existsSync(`/proc/${child}`), { what: `deno (${child}) to be gone`, intervalMs: 50 });
  expect(existsSync(`/proc/${child}`)).toBe(false);
  for (const line of ["SIGTERM: shutting down", `removed socket ${sock}`, "all requests finished", "stopped"]) {
    expect(npm.stderr()).toContain(`printerfacts info: ${line}`);
  }
  expect(existsSync(sock)).toBe(false);
}, 60_000);

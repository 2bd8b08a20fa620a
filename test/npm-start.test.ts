// Every start script in package.json, run as the README runs it and stopped as a supervisor stops
// it: SIGTERM to the process it started (npm). npm passes the signal to its child, so that child
// must be the runtime itself (exec all the way down), which drains and removes its socket; nothing
// is left running. Without exec, npm's child is sh, which dies and leaves the server orphaned.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { curl, freePort, LISTENING, ROOT, start, tempDir, waitForLog } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => {
  // When a test fails, a server may be left behind npm: the one whose environment or directory is our temp dir.
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const ours = readFileSync(`/proc/${pid}/environ`, "utf8").includes(dir.path);
      if (ours || readlinkSync(`/proc/${pid}/cwd`).startsWith(dir.path)) process.kill(Number(pid), "SIGKILL");
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
    await eventually(() => !existsSync(`/proc/${child}`), { what: `${runtime} (${child}) to be gone`, intervalMs: 50 });
    expect(existsSync(`/proc/${child}`)).toBe(false);
    for (const line of ["SIGTERM: shutting down", `removed socket ${sock}`, "all requests finished", "stopped"]) {
      expect(npm.stderr()).toContain(`printerfacts info: ${line}`);
    }
    expect(existsSync(sock)).toBe(false);
  },
  60_000,
);

test("npm run dev: a changed file reloads, and says so; SIGTERM to npm then stops it", async () => {
  // A copy of what the dev server reads, so the file it changes is not the checkout's.
  const copy = join(dir.path, "checkout");
  for (const path of ["package.json", "tsconfig.json", "facts.txt", "src"]) {
    cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  const port = String(await freePort());
  const npm = start(["npm", "run", "--silent", "dev"], { PORT: port }, copy);
  await waitForLog(npm, LISTENING, 30_000);
  const pid = Number(readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim());

  appendFileSync(join(copy, "src/http/facts.ts"), "// changed\n");
  await waitForLog(npm, /(^printerfacts info: listening on .*\n[\s\S]*){2}/m, 30_000);
  expect(npm.stderr()).toContain("printerfacts info: SIGUSR2: a watched file changed, reloading (--watch)\n");
  expect(npm.stderr()).not.toContain("shutting down");
  // The same process, re-executed: it serves again.
  expect(readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim()).toBe(String(pid));
  expect((await curl(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  npm.kill("SIGTERM");
  await npm.exited;
  await eventually(() => !existsSync(`/proc/${pid}`), { what: `the server (${pid}) to be gone`, intervalMs: 50 });
  expect(existsSync(`/proc/${pid}`)).toBe(false);
  expect(npm.stderr()).toContain("printerfacts info: SIGTERM: shutting down");
  expect(npm.stderr()).toContain("printerfacts info: stopped");
}, 90_000);

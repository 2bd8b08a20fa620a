// The private directory the socket is first bound in has a fixed name per SOCKPATH (so Deno can be
// given exact permissions): what a crashed start leaves there is cleared, anything else is refused.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateDirFor } from "../src/listen/socket.ts";
import { BINARY, curl, serviceDir, startListening, startService, tempDir } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const sockPath = () => dir.socketPath("b");

describe("the private bind directory", () => {
  test("is .pf- and six hex digits beside SOCKPATH, the same every time, different per socket name", () => {
    expect(privateDirFor("/run/printerfacts/a.sock")).toMatch(/^\/run\/printerfacts\/\.pf-[0-9a-f]{6}$/);
    expect(privateDirFor("/run/printerfacts/a.sock")).toBe(privateDirFor("/run/printerfacts/a.sock"));
    expect(privateDirFor("/run/printerfacts/a.sock")).not.toBe(privateDirFor("/run/printerfacts/b.sock"));
  });

  test("is named by FNV-1a of the socket's name, as scripts/deno-run's own fnv1a computes it", () => {
    const script = readFileSync(join(import.meta.dir, "..", "scripts", "deno-run"), "utf8");
    const fnv1a = script.match(/^fnv1a\(\) \{\n[\s\S]*?\n\}$/m)?.[0];
    expect(fnv1a).toBeDefined();
    for (const name of ["printerfacts.sock", "b.sock", "é.sock"]) {
      const run = Bun.spawnSync(["sh", "-c", `${fnv1a}\nfnv1a "$1" | cut -c1-6`, "sh", name]);
      expect(privateDirFor(`/run/printerfacts/${name}`)).toBe(`/run/printerfacts/.pf-${run.stdout.toString().trim()}`);
    }
  });

  test("left empty by a crashed start: removed, logged, and the service starts", async () => {
    const sock = sockPath();
    const priv = serviceDir(privateDirFor(sock), 0o700);
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    expect(proc.stderr()).toContain(`removed ${priv}, left by an earlier start that did not finish`);
    expect((await curl("http://x/healthz", { socket: sock })).status).toBe(200);
    expect(existsSync(priv)).toBe(false);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("holding a stale socket (a start killed between bind and link): cleared, and the service starts", async () => {
    const sock = sockPath();
    const other = serviceDir(join(dir.path, "crashed"));
    const crashed = await startListening([BINARY], { SOCKPATH: join(other, "c.sock") });
    const priv = serviceDir(privateDirFor(sock), 0o700);
    linkSync(join(other, "c.sock"), join(priv, "s"));
    crashed.kill("SIGKILL");
    await crashed.exited;
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    expect(proc.stderr()).toContain(`removed ${priv}, left by an earlier start`);
    expect((await curl("http://x/healthz", { socket: sock })).status).toBe(200);
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  test("holding a live socket (another start in progress): refused, and that start keeps serving", async () => {
    const sock = sockPath();
    const other = serviceDir(join(dir.path, "other"));
    // Stand in for a start caught between bind and link: a live server on the private name.
    const priv = serviceDir(privateDirFor(sock), 0o700);
    const racer = await startListening([BINARY], { SOCKPATH: join(other, "r.sock") });
    try {
      linkSync(join(other, "r.sock"), join(priv, "s"));
      const proc = startService([BINARY], { SOCKPATH: sock });
      expect(await proc.exited).toBe(1);
      expect(proc.stderr()).toContain(`another process is starting on ${sock}`);
      expect(readdirSync(priv)).toEqual(["s"]);
      expect((await curl("http://x/healthz", { socket: join(priv, "s") })).status).toBe(200);
    } finally {
      racer.kill();
      await racer.exited;
    }
  });

  test.each([
    ["open to others (mode 0755)", (d: string) => serviceDir(d, 0o755), "is not a private directory of this user"],
    [
      "another user's (root's, 0700)",
      (d: string) => mkdirSync(d, { mode: 0o700 }),
      "is not a private directory of this user",
    ],
    ["a regular file", (d: string) => writeFileSync(d, "x"), "is not a private directory of this user"],
    [
      "holding a file we did not put there",
      (d: string) => {
        serviceDir(d, 0o700);
        writeFileSync(join(d, "notes.txt"), "keep me");
      },
      "holds files printerfacts did not put there",
    ],
  ])("%s: refused and left as it was", async (_name, make, message) => {
    const sock = sockPath();
    const priv = privateDirFor(sock);
    make(priv);
    const proc = startService([BINARY], { SOCKPATH: sock });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(message);
    expect(existsSync(priv)).toBe(true);
    expect(existsSync(sock)).toBe(false);
  });
});

// The access log of the real binary: one line per request on stdout, JSON or logfmt text, with
// the fields other tools rely on; LOG_LEVEL; and no line lost when the service is stopped.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requestState } from "../src/http/app.ts";
import { eventually } from "./helpers/eventually.ts";
import { jsonLines, stop, waitForLines } from "./helpers/observability.ts";
import {
  BINARY,
  curl,
  fetchUnix,
  freePort,
  startListening,
  startService,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const socketPath = () => dir.socketPath("log");

describe("LOG_FORMAT=json", () => {
  test("one object per request with exactly the agreed keys, and values that match the response", async () => {
    const sock = socketPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock, LOG_FORMAT: "json" });
    const fact = await curl("http://x/fact", { socket: sock, args: ["-H", "X-Request-Id: req-fact-1"] });
    const bad = await curl("http://x/facts/abc", { socket: sock });
    await curl("http://x/fact", { socket: sock, args: ["-I", "-H", "X-Request-Id: req-head"] });
    await curl("http://x/a%20b%0Ac?token=secret", { socket: sock, args: ["-H", "X-Request-Id: req-odd"] });
    await waitForLines(proc, 4);
    expect(await stop(proc)).toBe(0);

    const lines = jsonLines(proc);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual([
        "bytes",
        "client",
        "duration_ms",
        "method",
        "path",
        "request_id",
        "status",
        "time",
      ]);
      expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(typeof line.duration_ms).toBe("number");
      expect(line.duration_ms).toBeGreaterThanOrEqual(0);
      expect(line.client).toBeNull(); // over a socket with no X-Real-IP: nobody said
    }
    const [get, bad400, head, odd] = lines;
    expect(get).toMatchObject({
      method: "GET",
      path: "/fact",
      status: 200,
      bytes: Buffer.byteLength(fact.body),
      request_id: "req-fact-1",
    });
    expect(bad400).toMatchObject({
      method: "GET",
      path: "/facts/abc",
      status: 400,
      bytes: Buffer.byteLength(bad.body),
    });
    expect(bad400.request_id).toBe(bad.headers["x-request-id"]);
    expect(head).toMatchObject({ method: "HEAD", path: "/fact", status: 200, bytes: 0, request_id: "req-head" });
    // As it came in, still percent-encoded (a decoded %0A would split the line); no query string.
    expect(odd).toMatchObject({ path: "/a%20b%0Ac", status: 404, request_id: "req-odd" });
  });
});

describe("LOG_FORMAT=text (the default)", () => {
  test("the same fields as key=value pairs on one line", async () => {
    const sock = socketPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock });
    const res = await curl("http://x/facts/1", {
      socket: sock,
      args: ["-H", "X-Request-Id: text-1", "-H", "X-Real-IP: 192.0.2.10"],
    });
    await curl("http://x/healthz", { socket: sock, args: ["-H", "X-Request-Id: text-2"] });
    const [first, second] = await waitForLines(proc, 2);
    expect(await stop(proc)).toBe(0);

    const fields = Object.fromEntries(first.split(" ").map((pair) => pair.split("=") as [string, string]));
    expect(Object.keys(fields)).toEqual([
      "time",
      "method",
      "path",
      "status",
      "bytes",
      "duration_ms",
      "request_id",
      "client",
    ]);
    expect(fields).toMatchObject({
      method: "GET",
      path: "/facts/1",
      status: "200",
      bytes: String(Buffer.byteLength(res.body)),
      request_id: "text-1",
      client: "192.0.2.10",
    });
    expect(Number(fields.duration_ms)).toBeGreaterThanOrEqual(0);
    expect(second).toMatch(/ path=\/healthz status=200 bytes=3 duration_ms=[\d.]+ request_id=text-2 client=-$/);
  });
});

describe("shutdown", () => {
  test("every request answered before SIGTERM has its line when the process exits", async () => {
    // TCP: its shutdown has no 100 ms pause for the socket's accept queue, so it ends before the
    // next batch would be written on its own; only the flush on shutdown can save the lines.
    const port = await freePort();
    const proc = await startListening([BINARY], { PORT: String(port), HOST: "127.0.0.1", LOG_FORMAT: "json" });
    const count = 50;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/fact`, { headers: { "X-Request-Id": `burst-${i}` } }).then((r) => r.text()),
      ),
    );
    expect(await stop(proc)).toBe(0);
    const ids = jsonLines(proc)
      .map((line) => line.request_id)
      .sort();
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => `burst-${i}`).sort());
  });
});

describe("a second signal", () => {
  test("exits at once, and still writes the lines queued so far", async () => {
    const sock = socketPath();
    const proc = await startListening([BINARY], { SOCKPATH: sock, LOG_FORMAT: "json" });
    for (let i = 0; i < 20; i++)
      await fetchUnix(sock, "/fact", { headers: { "X-Request-Id": `twice-${i}` } }).then((r) => r.text());
    proc.kill("SIGTERM");
    await waitForLog(proc, "shutting down"); // within the drain's first 100 ms (socket removed, accept queue grace)
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(143);
    expect(proc.stderr()).toContain("SIGTERM again: exiting now");
    expect(jsonLines(proc).map((line) => line.request_id)).toEqual(Array.from({ length: 20 }, (_, i) => `twice-${i}`));
  });
});

describe("LOG_LEVEL", () => {
  test("warn: no access lines for successful requests and no info lines on stderr", async () => {
    const sock = socketPath();
    const proc = startService([BINARY], { SOCKPATH: sock, LOG_LEVEL: "warn" });
    // It does not say "listening on" at this level.
    await eventually(() => existsSync(sock), { what: () => `${sock} to appear; stderr: ${proc.stderr()}` });
    expect((await curl("http://x/fact", { socket: sock })).status).toBe(200);
    expect((await curl("http://x/nope", { socket: sock })).status).toBe(404);
    expect(await stop(proc)).toBe(0);
    expect(proc.stdout()).toBe("");
    expect(proc.stderr()).toBe("");
  });

  test("off: silent, but the reason for a failed start is still written", async () => {
    const path = join(dir.path, "a-regular-file");
    writeFileSync(path, "keep me");
    const proc = startService([BINARY], { SOCKPATH: path, LOG_LEVEL: "off" });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toBe(
      `printerfacts error: ${path} exists and is a regular file, not a socket; refusing to touch it: move it away or choose another SOCKPATH\n`,
    );
  });
});

describe("line format", () => {
  // The JSON line is built field by field for speed; it must be exactly what JSON.stringify makes,
  // whatever a client manages to put in a field (a runtime that let a quote or a control byte
  // through, say).
  test("a JSON line is JSON.stringify's, byte for byte, for strings that need escaping", async () => {
    const { accessLog } = await import("../src/observe/access-log.ts");
    const odd = [
      'quo"te',
      "back\\slash",
      "tab\there",
      "nul\u0000",
      "del\u007f",
      "é ✓ 🖨",
      "lone \ud800 surrogate",
      "",
      "plain",
    ];
    for (const value of odd) {
      const lines: string[] = [];
      const observe = accessLog({
        format: "json",
        clientAddress: () => value,
        writer: { write: (line) => lines.push(line) },
        isEnabled: () => true,
      });
      const request = new Request("http://x/fact");
      const response = new Response("hi\n", { headers: { "Content-Length": "3" } });
      observe({ ...requestState(request, { transport: "unix" }), requestId: value, route: "/fact" }, response, 0.25);
      const parsed = JSON.parse(lines[0]);
      expect(parsed).toMatchObject({
        method: "GET",
        path: "/fact",
        status: 200,
        bytes: 3,
        duration_ms: 0.25,
        request_id: value,
        client: value,
      });
      expect(lines[0]).toBe(`${JSON.stringify(parsed)}\n`);
    }
  });
});

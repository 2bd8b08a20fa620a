// Bad HTTP over the real socket, as raw bytes, on every runtime: whatever reaches the socket, each
// request gets the right 4xx (or the connection is closed) and the next connection is served
// normally. Statuses that differ between runtimes come from their own HTTP parsers (Bun 1.4.5,
// Node's llhttp, Deno's hyper), which answer before the app sees anything; the table pins them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openRaw, rawExchange } from "./helpers/raw.ts";
import { ENTRIES, type Running, startListening, tempDir } from "./helpers/server.ts";

const RUNTIMES = {
  bun: ENTRIES.binary,
  node: ENTRIES["node dist/node/printerfacts.mjs"],
  deno: ENTRIES["deno (scripts/deno-run)"],
};
type Runtime = keyof typeof RUNTIMES;

const dir = tempDir();
afterAll(() => dir.cleanup());

const req = (line: string, headers = "Host: x\r\n", body = "") => `${line}\r\n${headers}\r\n${body}`;

/** "400 close": that status, then the server closes the connection; "400": the status alone. */
type Outcome = `${number}` | `${number} close`;

// [what, bytes, outcome on Bun, on Node (if different), on Deno (if different)]
const cases: [string, string, Outcome, Outcome?, Outcome?][] = [
  ["a malformed request line", "GARBAGE\r\n\r\n", "400 close"],
  ["a request line without a version", "GET /fact\r\n\r\n", "505 close", "200 close", "400 close"],
  ["an unknown HTTP version", req("GET /fact HTTP/9.9"), "505 close", "400 close", "400 close"],
  ["a method with bad characters", req("GE(T /fact HTTP/1.1"), "400 close"],
  ["a header name with a space", req("GET /fact HTTP/1.1", "Host: x\r\nBad Name: y\r\n"), "400 close"],
  ["a header line without a colon", req("GET /fact HTTP/1.1", "Host: x\r\nno-colon-here\r\n"), "400 close"],
  ["a NUL byte in a header value", req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\0b\r\n"), "400 close"],
  ["a control byte in a header value", req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\x01b\r\n"), "400 close"],
  ["a NUL byte in the path", req("GET /fa\0ct HTTP/1.1"), "505 close", "400 close", "400 close"],
  ["bare LF line endings", "GET /fact HTTP/1.1\nHost: x\n\n", "505 close", "400 close", "200"],
  ["HTTP/1.1 without Host", req("GET /fact HTTP/1.1", ""), "400 close", "400 close", "200"],
  ["a 16 KiB URL", req(`GET /facts/${"1".repeat(16 * 1024)} HTTP/1.1`), "431 close", "431 close", "400"],
  ["64 KiB of headers", req("GET /fact HTTP/1.1", `Host: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n`), "431 close", "431 close", "400 close"],
  ["2000 headers", req("GET /fact HTTP/1.1", `Host: x\r\n${"X-H: v\r\n".repeat(2000)}`), "431 close", "200", "400 close"],
  ["Content-Length with Transfer-Encoding", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), "400 close"],
  ["two different Content-Lengths", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n", "hello!"), "400 close"],
  ["a Content-Length that is not a number", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5x\r\n"), "400 close"],
  ["an unknown Transfer-Encoding", req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: gzip\r\n"), "400 close"],
  ["invalid percent-encoding in an id", req("GET /facts/%zz HTTP/1.1"), "400"],
  ["a truncated UTF-8 escape", req("GET /facts/%E0%A4%A HTTP/1.1"), "400"],
  ["invalid percent-encoding elsewhere", req("GET /%ff%fe%zz HTTP/1.1"), "404"],
  ["OPTIONS *", req("OPTIONS * HTTP/1.1"), "400 close", "400", "404"],
  ["an absolute URL", req("GET http://elsewhere.example/nope HTTP/1.1"), "404"],
];

describe.each(Object.keys(RUNTIMES) as Runtime[])("%s", (runtime) => {
  const sock = join(dir.path, `${runtime}.sock`);
  let proc: Running;
  beforeAll(async () => {
    proc = await startListening(RUNTIMES[runtime], { SOCKPATH: sock, MAX_BODY: "1024" });
  });
  afterAll(async () => {
    proc.kill();
    expect(await proc.exited).toBe(0);
  });

  async function expectStillServing() {
    const { responses } = await rawExchange(sock, req("GET /healthz HTTP/1.1", "Host: x\r\nConnection: close\r\n"));
    expect(responses.map((r) => [r.status, r.body])).toEqual([[200, "ok\n"]]);
  }

  test.each(cases)("%s: its 4xx, and the next connection is served", async (_what, bytes, bun, node = bun, deno = bun) => {
    const expected = { bun, node, deno }[runtime];
    const closes = expected.endsWith("close");
    const { responses, closedByServer } = await rawExchange(sock, bytes, { untilClosed: closes });
    expect(`${responses[0]?.status}${closes && closedByServer ? " close" : ""}`).toBe(expected);
    await expectStillServing();
  });

  // Deno keeps the connection after a 413 (it ignores the handler's Connection: close).
  const closesAfter413 = runtime !== "deno";

  test("a Content-Length over MAX_BODY gets 413 with the request id, before the body is sent", async () => {
    const bytes = req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 1000000\r\n");
    const { responses, closedByServer } = await rawExchange(sock, bytes, { untilClosed: closesAfter413 });
    expect(responses[0].status).toBe(413);
    expect(responses[0].headers["x-request-id"]).toBeTruthy();
    expect(closedByServer).toBe(closesAfter413);
    await expectStillServing();
  });

  test("a chunked body over MAX_BODY gets 413 after at most MAX_BODY is read", async () => {
    const chunk = `800\r\n${"a".repeat(2048)}\r\n`; // 2 KiB, and no last chunk: the rest never comes
    const bytes = req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: chunked\r\n", chunk);
    const { responses, closedByServer } = await rawExchange(sock, bytes, { untilClosed: closesAfter413 });
    expect(responses[0].status).toBe(413);
    expect(closedByServer).toBe(closesAfter413);
    await expectStillServing();
  });

  test("a small body on GET is ignored: the request is answered and the next one on the connection too", async () => {
    const bytes = req("GET /healthz HTTP/1.1", "Host: x\r\nContent-Length: 5\r\n", "hello") + req("GET /facts/1 HTTP/1.1", "Host: x\r\nConnection: close\r\n");
    const { responses } = await rawExchange(sock, bytes, { responses: 2 });
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(responses[0].body).toBe("ok\n");
  });

  test("HTTP/1.0 without Host is served, and closed after the response", async () => {
    const { responses, closedByServer } = await rawExchange(sock, "GET /facts/1 HTTP/1.0\r\n\r\n", { untilClosed: true });
    expect(responses[0].status).toBe(200);
    expect(responses[0].body).toMatch(/^.+\n$/);
    expect(closedByServer).toBe(true);
  });

  test("pipelined requests are answered in order", async () => {
    const bytes = req("GET /facts/2 HTTP/1.1") + req("GET /nope HTTP/1.1") + req("GET /healthz HTTP/1.1", "Host: x\r\nConnection: close\r\n");
    const { responses } = await rawExchange(sock, bytes, { responses: 3 });
    expect(responses.map((r) => r.status)).toEqual([200, 404, 200]);
    expect(responses[2].body).toBe("ok\n");
  });

  test("a request split into single bytes is still one request", async () => {
    const conn = await openRaw(sock);
    for (const byte of req("GET /healthz HTTP/1.1", "Host: x\r\nConnection: close\r\n")) await conn.write(byte);
    await conn.closed;
    expect(conn.responses().map((r) => r.body)).toEqual(["ok\n"]);
  });
});

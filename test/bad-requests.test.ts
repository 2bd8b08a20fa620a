// Bad HTTP over the real socket, as raw bytes: whatever reaches the socket, each request gets the
// right 4xx (or the connection is closed) and the next connection is served normally.
// Statuses below 500 come from the app; the rest are Bun's own parser (Bun 1.4.5), which answers
// and closes before the app sees anything.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openRaw, rawExchange } from "./helpers/raw.ts";
import { BINARY, type Running, startListening, tempDir } from "./helpers/server.ts";

const dir = tempDir();
const sock = join(dir.path, "bad.sock");
let proc: Running;
beforeAll(async () => {
  proc = await startListening([BINARY], { SOCKPATH: sock, MAX_BODY: "1024" });
});
afterAll(async () => {
  proc.kill();
  expect(await proc.exited).toBe(0);
  dir.cleanup();
});

const req = (line: string, headers = "Host: x\r\n", body = "") => `${line}\r\n${headers}\r\n${body}`;

async function expectStillServing() {
  const { responses } = await rawExchange(sock, req("GET /healthz HTTP/1.1", "Host: x\r\nConnection: close\r\n"));
  expect(responses.map((r) => [r.status, r.body])).toEqual([[200, "ok\n"]]);
}

// [what, bytes, status, whether the server closes the connection after answering]
const cases: [string, string, number, boolean][] = [
  ["a malformed request line", "GARBAGE\r\n\r\n", 400, true],
  ["a request line without a version", "GET /fact\r\n\r\n", 505, true],
  ["an unknown HTTP version", req("GET /fact HTTP/9.9"), 505, true],
  ["a method with bad characters", req("GE(T /fact HTTP/1.1"), 400, true],
  ["a header name with a space", req("GET /fact HTTP/1.1", "Host: x\r\nBad Name: y\r\n"), 400, true],
  ["a header name with a colon-less line", req("GET /fact HTTP/1.1", "Host: x\r\nno-colon-here\r\n"), 400, true],
  ["a NUL byte in a header value", req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\0b\r\n"), 400, true],
  ["a control byte in a header value", req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\x01b\r\n"), 400, true],
  ["a NUL byte in the path", req("GET /fa\0ct HTTP/1.1"), 505, true],
  ["bare LF line endings", "GET /fact HTTP/1.1\nHost: x\n\n", 505, true],
  ["HTTP/1.1 without Host", req("GET /fact HTTP/1.1", ""), 400, true],
  ["a 16 KiB URL", req(`GET /facts/${"1".repeat(16 * 1024)} HTTP/1.1`), 431, true],
  ["64 KiB of headers", req("GET /fact HTTP/1.1", `Host: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n`), 431, true],
  ["2000 headers", req("GET /fact HTTP/1.1", `Host: x\r\n${"X-H: v\r\n".repeat(2000)}`), 431, true],
  ["Content-Length with Transfer-Encoding", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), 400, true],
  ["two different Content-Lengths", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400, true],
  ["a Content-Length that is not a number", req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5x\r\n"), 400, true],
  ["an unknown Transfer-Encoding", req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: gzip\r\n"), 400, true],
  ["invalid percent-encoding in an id", req("GET /facts/%zz HTTP/1.1"), 400, false],
  ["a truncated UTF-8 escape", req("GET /facts/%E0%A4%A HTTP/1.1"), 400, false],
  ["invalid percent-encoding elsewhere", req("GET /%ff%fe%zz HTTP/1.1"), 404, false],
  ["OPTIONS *", req("OPTIONS * HTTP/1.1"), 400, true],
  ["an absolute URL", req("GET http://elsewhere.example/nope HTTP/1.1"), 404, false],
];

describe("each gets its 4xx, and the next connection is served", () => {
  test.each(cases)("%s", async (_what, bytes, status, closes) => {
    const { responses, closedByServer } = await rawExchange(sock, bytes, { untilClosed: closes });
    expect(responses[0]?.status).toBe(status);
    if (closes) expect(closedByServer).toBe(true);
    await expectStillServing();
  });
});

describe("request bodies (MAX_BODY=1024; no route takes one)", () => {
  test("a Content-Length over MAX_BODY gets 413 before the body is sent, and the connection closes", async () => {
    const { responses, closedByServer } = await rawExchange(sock, req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 1000000\r\n"), { untilClosed: true });
    expect(responses[0].status).toBe(413);
    expect(responses[0].headers["x-request-id"]).toBeTruthy();
    expect(closedByServer).toBe(true);
    await expectStillServing();
  });

  test("a chunked body over MAX_BODY gets 413 after at most MAX_BODY is read, and the connection closes", async () => {
    const chunk = `800\r\n${"a".repeat(2048)}\r\n`; // 2 KiB, and no last chunk: the rest never comes
    const { responses, closedByServer } = await rawExchange(sock, req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: chunked\r\n", chunk), { untilClosed: true });
    expect(responses[0].status).toBe(413);
    expect(closedByServer).toBe(true);
    await expectStillServing();
  });

  test("a small body on GET is ignored: the request is answered and the next one on the connection too", async () => {
    const bytes = req("GET /healthz HTTP/1.1", "Host: x\r\nContent-Length: 5\r\n", "hello") + req("GET /facts/1 HTTP/1.1", "Host: x\r\nConnection: close\r\n");
    const { responses } = await rawExchange(sock, bytes, { responses: 2 });
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    expect(responses[0].body).toBe("ok\n");
  });
});

describe("valid but unusual", () => {
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

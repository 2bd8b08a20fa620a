// Which client address the access log shows: X-Real-IP / X-Forwarded-For are believed over the
// Unix socket (only nginx can connect) and from TCP peers in TRUST_PROXY, never from anyone else.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jsonLines, stop, waitForLines } from "./helpers/observability.ts";
import { BINARY, curl, freePort, type Running, startListening, tempDir } from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());

/** Send each request with its own id; return the client the log shows for each id. */
async function clients(proc: Running, requests: { id: string; url: string; socket?: string; headers?: string[] }[]) {
  for (const r of requests) {
    const headers = ["X-Request-Id", r.id, ...(r.headers ?? [])];
    const args: string[] = [];
    for (let i = 0; i < headers.length; i += 2) args.push("-H", `${headers[i]}: ${headers[i + 1]}`);
    expect((await curl(r.url, { socket: r.socket, args })).status).toBe(200);
  }
  await waitForLines(proc, requests.length);
  expect(await stop(proc)).toBe(0);
  return Object.fromEntries(jsonLines(proc).map((line) => [line.request_id, line.client]));
}

describe("over the Unix socket: the proxy's headers are believed", () => {
  test("X-Real-IP, else the right-most X-Forwarded-For entry, else null; a non-address is ignored", async () => {
    const sock = join(dir.path, "client.sock");
    const proc = await startListening([BINARY], { SOCKPATH: sock, LOG_FORMAT: "json" });
    const url = "http://x/healthz";
    const seen = await clients(proc, [
      { id: "real", url, socket: sock, headers: ["X-Real-IP", "203.0.113.7", "X-Forwarded-For", "198.51.100.1"] },
      { id: "real6", url, socket: sock, headers: ["X-Real-IP", "2001:db8::7"] },
      // A client can put anything on the left; nginx's $proxy_add_x_forwarded_for appends the real peer.
      { id: "xff", url, socket: sock, headers: ["X-Forwarded-For", "10.9.9.9, 198.51.100.23"] },
      { id: "none", url, socket: sock },
      { id: "garbage", url, socket: sock, headers: ["X-Real-IP", 'evil" client=1.2.3.4'] },
      { id: "mapped", url, socket: sock, headers: ["X-Real-IP", "::ffff:192.0.2.5"] },
    ]);
    expect(seen).toEqual({
      real: "203.0.113.7",
      real6: "2001:db8::7",
      xff: "198.51.100.23",
      none: null,
      garbage: null,
      mapped: "192.0.2.5",
    });
  });
});

describe("over TCP", () => {
  test("without TRUST_PROXY: the peer's own address, whatever the headers say", async () => {
    const port = await freePort();
    const proc = await startListening([BINARY], { PORT: String(port), LOG_FORMAT: "json" });
    const seen = await clients(proc, [
      { id: "v4", url: `http://127.0.0.1:${port}/healthz`, headers: ["X-Real-IP", "203.0.113.7"] },
      { id: "v6", url: `http://[::1]:${port}/healthz`, headers: ["X-Forwarded-For", "203.0.113.8"] },
    ]);
    // The [::] listener sees IPv4 peers as ::ffff:127.0.0.1; the log shows the plain address.
    expect(seen).toEqual({ v4: "127.0.0.1", v6: "::1" });
  });

  test("with TRUST_PROXY: headers from a listed peer are believed, from any other peer ignored", async () => {
    const port = await freePort();
    const proc = await startListening([BINARY], {
      PORT: String(port),
      LOG_FORMAT: "json",
      TRUST_PROXY: "127.0.0.0/8, 192.0.2.1",
    });
    const seen = await clients(proc, [
      { id: "trusted", url: `http://127.0.0.1:${port}/healthz`, headers: ["X-Real-IP", "203.0.113.7"] },
      {
        id: "trusted-xff",
        url: `http://127.0.0.1:${port}/healthz`,
        headers: ["X-Forwarded-For", "10.1.1.1, 203.0.113.9"],
      },
      { id: "trusted-none", url: `http://127.0.0.1:${port}/healthz` },
      { id: "untrusted", url: `http://[::1]:${port}/healthz`, headers: ["X-Real-IP", "203.0.113.7"] },
    ]);
    expect(seen).toEqual({
      trusted: "203.0.113.7",
      "trusted-xff": "203.0.113.9",
      "trusted-none": "127.0.0.1",
      untrusted: "::1",
    });
  });
});

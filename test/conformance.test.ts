// Every request a real proxy may send, as raw bytes, to every runtime: directly on the socket and
// through each shipped proxy config with the real proxy. The expected answer per runtime and per
// proxy is stated once, in ROWS. Where a runtime's own HTTP layer answers and only the runtime can
// change that, the row says so and a pin below runs docs/runtime-issues.md's reproduction against
// the runtime alone: it fails when the runtime changes, so the workaround can go.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startCaddy } from "./helpers/caddy.ts";
import { eventually } from "./helpers/eventually.ts";
import { startHaproxy } from "./helpers/haproxy.ts";
import { freePort as freeLoopbackPort, startNginx } from "./helpers/nginx.ts";
import { type RunningProxy, rawTlsExchange, testCert } from "./helpers/proxy.ts";
import { acceptedBy, openRaw, type RawConnection, type RawResponse, rawExchange, serverHolds } from "./helpers/raw.ts";
import {
  BUN,
  DENO,
  ENTRIES,
  ROOT,
  type Running,
  start,
  startListening,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const RUNTIMES = {
  bun: ENTRIES.binary,
  node: ENTRIES["node dist/node/printerfacts.mjs"],
  deno: ENTRIES["deno (scripts/deno-run)"],
};
type Runtime = keyof typeof RUNTIMES;
const MAX_BODY = 1024;

/**
 * An outcome: the statuses of the responses received, in order, then "close" if the server (or
 * the proxy, through one) closed the connection after them. "close" alone: zero bytes, closed.
 * "A or B": either is right.
 */
type Outcome = string;
type PerRuntime = Outcome | (Partial<Record<Runtime, Outcome>> & { default?: Outcome });

interface Row {
  what: string;
  bytes: string;
  /** Directly on the socket. */
  direct: PerRuntime;
  /**
   * Through each shipped proxy config with the real proxy (deploy/nginx, deploy/haproxy,
   * deploy/caddy): that proxy's outcome, else `proxies`, else the same as direct.
   */
  proxies?: PerRuntime;
  nginx?: PerRuntime;
  haproxy?: PerRuntime;
  caddy?: PerRuntime;
  /** Headers the first response must have, directly on the socket (names in lower case). */
  headers?: Record<string, string | RegExp>;
  /** What to send through a proxy instead, where `bytes` would only test the proxy. */
  proxied?: string;
  /** The runtime's own HTTP layer answers this row; a pin below holds its behaviour. */
  pinned?: string;
}

const req = (line: string, headers = "Host: x\r\n", body = "") => `${line}\r\n${headers}\r\n${body}`;
const close = "Connection: close\r\n";

const ROWS: Row[] = [
  // Issue 15's table.
  {
    what: "HTTP/1.0 with Connection: keep-alive, twice on one connection",
    bytes: req("GET /healthz HTTP/1.0", "Host: x\r\nConnection: keep-alive\r\n").repeat(2),
    // Bun closes after any HTTP/1.0 request; the adapter makes the response say so.
    direct: { bun: "200 close", default: "200 200" },
    nginx: "200 200",
    pinned: "bun-http10-keepalive",
    haproxy: "200 200",
    caddy: "200 200",
  },
  {
    what: "HTTP/1.1 with Connection: close: echoed, then closed",
    bytes: req("GET /healthz HTTP/1.1", `Host: x\r\n${close}`),
    direct: "200 close",
    headers: { connection: "close" },
    pinned: "bun-connection-close-not-echoed",
    haproxy: "200 close",
    caddy: "200 close",
  },
  {
    what: "an unknown method (FOO) on a known path",
    bytes: req("FOO /fact HTTP/1.1"),
    // Bun drops it unanswered (nothing our code can do), Node's parser refuses it with its own 400,
    // Deno hands it to the app; nginx, HAProxy and Caddy refuse it with 501 before the socket
    // (their shipped configs list the methods they pass), so no proxy turns Bun's silence into a 502.
    direct: { bun: "close", node: "400 close", deno: "405" },
    nginx: "501 close",
    pinned: "bun-unknown-method",
    haproxy: "501",
    caddy: "501",
  },
  {
    what: "CONNECT, then a GET on the same connection",
    bytes: req("CONNECT x:443 HTTP/1.1", "Host: x:443\r\n") + req("GET /healthz HTTP/1.1"),
    // Refused by every adapter; Bun and Node close (Bun would keep a dead tunnel), Deno serves on.
    direct: { deno: "405 200", default: "405 close" },
    // nginx refuses CONNECT itself, HAProxy with its method list; Caddy never routes it to the
    // site (the authority x:443 is not its name) and answers 421, as for any host it does not
    // serve.
    nginx: "400 close",
    headers: { allow: "GET, HEAD" },
    pinned: "bun-connect-wedges",
    haproxy: "501 200",
    caddy: "421 200",
  },
  {
    what: "two Host headers",
    bytes: req("GET /healthz HTTP/1.1", "Host: a\r\nHost: b\r\n"),
    // The app answers it on Bun and Node (both join the two), Deno's parser on Deno.
    direct: "400 close",
    nginx: "400 close",
    pinned: "bun-duplicate-host",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "GET with a Content-Length over MAX_BODY",
    bytes: req("GET /healthz HTTP/1.1", `Host: x\r\nContent-Length: ${MAX_BODY + 1}\r\n`, "a".repeat(MAX_BODY + 1)),
    direct: "413 close",
    nginx: "413",
    haproxy: "413",
    caddy: "413",
  },
  {
    what: "GET with a chunked body over MAX_BODY: answered, the body unread",
    // A GET's body never reaches the app (Request.body is null on every runtime) and a chunked one
    // states no length, so MAX_BODY has nothing to hold it to: the fast path counts on this.
    bytes: req(
      "GET /healthz HTTP/1.1",
      "Host: x\r\nTransfer-Encoding: chunked\r\n",
      `${(MAX_BODY + 1).toString(16)}\r\n${"a".repeat(MAX_BODY + 1)}\r\n0\r\n\r\n`,
    ),
    // Deno's server closes the connection after answering it (the body was never read).
    direct: { deno: "200 close", default: "200" },
    // A short body through the proxies: over their own limits they answer 413 themselves (nginx
    // sends the body on with a Content-Length, which MAX_BODY then holds it to).
    proxied: req("GET /healthz HTTP/1.1", "Host: x\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
    proxies: "200",
  },
  {
    what: "HEAD with a Content-Length over MAX_BODY",
    // With Connection: close, so that the end of the answer is the close (a response to HEAD has
    // no body, whatever its Content-Length says, so it cannot be counted).
    bytes: req(
      "HEAD /healthz HTTP/1.1",
      `Host: x\r\nContent-Length: ${MAX_BODY + 1}\r\n${close}`,
      "a".repeat(MAX_BODY + 1),
    ),
    direct: "413 close",
    proxies: "413 close",
  },
  {
    what: "a 404 for a browser says Vary: Accept",
    bytes: req("GET /nope HTTP/1.1", "Host: x\r\nAccept: text/html\r\n"),
    direct: "404",
    headers: { vary: "Accept", "content-type": "text/html; charset=utf-8" },
    haproxy: "404",
    caddy: "404",
  },
  {
    what: "a 404 in text says Vary: Accept",
    bytes: req("GET /nope HTTP/1.1"),
    direct: "404",
    headers: { vary: "Accept", "content-type": "text/plain; charset=utf-8" },
    haproxy: "404",
    caddy: "404",
  },
  {
    what: "the page's charset is spelt utf-8",
    bytes: req("GET / HTTP/1.1"),
    direct: "200",
    headers: { "content-type": "text/html; charset=utf-8" },
    haproxy: "200",
    caddy: "200",
  },
  {
    what: "/healthz's charset is spelt utf-8",
    bytes: req("GET /healthz HTTP/1.1"),
    direct: "200",
    headers: { "content-type": "text/plain; charset=utf-8" },
    haproxy: "200",
    caddy: "200",
  },
  {
    what: "/fact's charset is spelt utf-8",
    bytes: req("GET /fact HTTP/1.1"),
    direct: "200",
    headers: { "content-type": "text/plain; charset=utf-8" },
    haproxy: "200",
    caddy: "200",
  },
  {
    what: "a 405's charset is spelt utf-8",
    bytes: req("DELETE /fact HTTP/1.1"),
    direct: "405",
    headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
    haproxy: "405",
    caddy: "405",
  },

  // The earlier bad requests (they were test/bad-requests.test.ts). Statuses that differ between
  // runtimes come from their own parsers (Bun 1.4.5, Node's llhttp, Deno), before the app.
  {
    what: "a malformed request line",
    bytes: "GARBAGE\r\n\r\n",
    direct: "400 close",
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  // nginx answers HTTP/0.9 as HTTP/0.9: a bare body, no status line.
  {
    what: "a request line without a version",
    bytes: "GET /fact\r\n\r\n",
    direct: { bun: "505 close", node: "200 close", deno: "400 close" },
    nginx: "close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "an unknown HTTP version",
    bytes: req("GET /fact HTTP/9.9"),
    direct: { bun: "505 close", default: "400 close" },
    nginx: "505 close",
    haproxy: "200",
    caddy: "505 close",
  },
  {
    what: "a method with bad characters",
    bytes: req("GE(T /fact HTTP/1.1"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "a header name with a space",
    bytes: req("GET /fact HTTP/1.1", "Host: x\r\nBad Name: y\r\n"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "a header line without a colon",
    bytes: req("GET /fact HTTP/1.1", "Host: x\r\nno-colon-here\r\n"),
    direct: "400 close",
    nginx: "200",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "a NUL byte in a header value",
    bytes: req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\0b\r\n"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: { deno: "400", default: "400 close" },
    caddy: "400 close",
  },
  {
    what: "a control byte in a header value",
    bytes: req("GET /fact HTTP/1.1", "Host: x\r\nX-A: a\x01b\r\n"),
    direct: "400 close",
    nginx: "400",
    haproxy: { deno: "400", default: "400 close" },
    caddy: "400 close",
  },
  {
    what: "a NUL byte in the path",
    bytes: req("GET /fa\0ct HTTP/1.1"),
    direct: { bun: "505 close", default: "400 close" },
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "bare LF line endings",
    bytes: "GET /fact HTTP/1.1\nHost: x\n\n",
    direct: { bun: "505 close", node: "400 close", deno: "200" },
    nginx: "200",
    haproxy: "200",
    caddy: "200",
  },
  {
    what: "HTTP/1.1 without Host",
    bytes: req("GET /fact HTTP/1.1", ""),
    direct: { deno: "200", default: "400 close" },
    nginx: "400 close",
    haproxy: { node: "400", deno: "200", default: "400 close" },
    caddy: "400 close",
  },
  {
    what: "a 16 KiB URL",
    bytes: req(`GET /facts/${"1".repeat(16 * 1024)} HTTP/1.1`),
    direct: { deno: "400", default: "431 close" },
    nginx: "414 close",
    haproxy: "400 close",
    caddy: { deno: "400", default: "431" },
  },
  // Bun and Node may close before the client has written it all, and a reset can take the 431
  // with it: either way nothing is served and the next connection is (checked after each row).
  {
    what: "64 KiB of headers",
    bytes: req("GET /fact HTTP/1.1", `Host: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n`),
    direct: { deno: "400 close", default: "431 close or close" },
    nginx: "400 close",
    haproxy: "400 close",
    caddy: { deno: "400", default: "431" },
  },
  {
    what: "2000 headers",
    bytes: req("GET /fact HTTP/1.1", `Host: x\r\n${"X-H: v\r\n".repeat(2000)}`),
    direct: { bun: "431 close", node: "200", deno: "400 close" },
    nginx: "400 close",
    haproxy: "400 close",
    caddy: { node: "200", deno: "400", default: "431" },
  },
  {
    what: "Content-Length with Transfer-Encoding",
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: "405 close",
    caddy: "405",
  },
  {
    what: "two different Content-Lengths",
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "a Content-Length that is not a number",
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 5x\r\n"),
    direct: "400 close",
    nginx: "400 close",
    haproxy: "400 close",
    caddy: "400 close",
  },
  {
    what: "an unknown Transfer-Encoding",
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: gzip\r\n"),
    direct: "400 close",
    nginx: "501 close",
    haproxy: "400 close",
    caddy: "501 close",
  },
  {
    what: "invalid percent-encoding in an id",
    bytes: req("GET /facts/%zz HTTP/1.1"),
    direct: "400",
    nginx: "400 close",
    haproxy: "400",
    caddy: "400 close",
  },
  {
    what: "a truncated UTF-8 escape",
    bytes: req("GET /facts/%E0%A4%A HTTP/1.1"),
    direct: "400",
    nginx: "400 close",
    haproxy: "400",
    caddy: "400 close",
  },
  {
    what: "invalid percent-encoding elsewhere",
    bytes: req("GET /%ff%fe%zz HTTP/1.1"),
    direct: "404",
    nginx: "400 close",
    haproxy: "404",
    caddy: "400 close",
  },
  // Caddy: Go's server answers OPTIONS * itself (200); a host Caddy does not serve (none, or
  // elsewhere.example) gets 421.
  {
    what: "OPTIONS *",
    bytes: req("OPTIONS * HTTP/1.1"),
    direct: { bun: "400 close", node: "400", deno: "404" },
    nginx: "400 close",
    haproxy: { node: "400", deno: "404", default: "400 close" },
    caddy: "200",
  },
  {
    what: "an absolute URL",
    bytes: req("GET http://elsewhere.example/nope HTTP/1.1"),
    direct: "404",
    nginx: "404",
    haproxy: "400 close",
    caddy: "421",
  },
  {
    what: "a small body on GET is ignored, and the next request on the connection answered",
    bytes: req("GET /healthz HTTP/1.1", "Host: x\r\nContent-Length: 5\r\n", "hello") + req("GET /facts/1 HTTP/1.1"),
    direct: "200 200",
    nginx: "200 200",
    haproxy: "200 200",
    caddy: "200 200",
  },
  {
    what: "HTTP/1.0 without Host: served, then closed",
    bytes: "GET /facts/1 HTTP/1.0\r\n\r\n",
    direct: "200 close",
    nginx: "200 close",
    haproxy: "200 close",
    caddy: "421 close",
  },
  {
    what: "pipelined requests are answered in order",
    bytes: req("GET /facts/2 HTTP/1.1") + req("GET /nope HTTP/1.1") + req("GET /healthz HTTP/1.1"),
    direct: "200 404 200",
    nginx: "200 404 200",
    haproxy: "200 404 200",
    caddy: "200 404 200",
  },
  {
    what: "a Content-Length over MAX_BODY on POST: 413 before the body is sent",
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 1000000\r\n"),
    // Deno keeps the connection after a 413 (it ignores the handler's Connection: close).
    direct: { deno: "413", default: "413 close" },
    // nginx's own client_max_body_size (16k) answers first.
    nginx: "413",
    pinned: "deno-connection-close-ignored",
    haproxy: "413 close",
    caddy: "413 close",
  },
  {
    what: "a chunked body over MAX_BODY: 413 after at most MAX_BODY is read",
    // 2 KiB, and no last chunk: the rest never comes.
    bytes: req("POST /fact HTTP/1.1", "Host: x\r\nTransfer-Encoding: chunked\r\n", `800\r\n${"a".repeat(2048)}\r\n`),
    direct: { deno: "413", default: "413 close" },
    // nginx reads the whole body before it passes the request on: here it gets its last chunk.
    proxied: req(
      "POST /fact HTTP/1.1",
      "Host: x\r\nTransfer-Encoding: chunked\r\n",
      `800\r\n${"a".repeat(2048)}\r\n0\r\n\r\n`,
    ),
    nginx: "413",
    pinned: "deno-connection-close-ignored",
    haproxy: "413",
    caddy: "413",
  },
];

/** The outcome a row states for this runtime at this place. */
function expected(row: Row, runtime: Runtime, via: "direct" | Proxy): Outcome {
  const stated = via === "direct" ? row.direct : (row[via] ?? row.proxies ?? row.direct);
  return typeof stated === "string" ? stated : (stated[runtime] ?? stated.default ?? "(not stated)");
}

/** How many responses to wait for, and whether to wait for the close (of the first alternative). */
function waitFor(outcome: Outcome): { responses: number; untilClosed: boolean } {
  const words = outcome.split(" or ")[0].split(" ");
  return { responses: words.filter((w) => /^\d+$/.test(w)).length, untilClosed: words.includes("close") };
}

interface Result {
  responses: RawResponse[];
  received: string;
  closedByServer: boolean;
}
type Exchange = (
  bytes: string,
  opts: { responses: number; untilClosed: boolean; timeoutMs?: number },
) => Promise<Result>;

function outcomeOf({ responses, received, closedByServer }: Result, head = false): Outcome {
  // A response to HEAD has no body, whatever its Content-Length: read its status line alone.
  const statuses = head
    ? [...received.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => m[1])
    : responses.map((r) => String(r.status));
  return [...statuses, ...(closedByServer ? ["close"] : [])].join(" ");
}

/** HEAD rows are read until the close (their responses cannot be counted). */
function waitForRow(row: Row, outcome: Outcome) {
  return row.bytes.startsWith("HEAD ") ? { responses: Infinity, untilClosed: true, timeoutMs: 1000 } : waitFor(outcome);
}

const dir = tempDir();
const cert = testCert(dir.path);
afterAll(() => dir.cleanup());

const PROXIES = ["nginx", "haproxy", "caddy"] as const;
type Proxy = (typeof PROXIES)[number];

/** A proxy in front of `sock`, as a test talks to it; everything under `prefix`. */
async function startProxy(proxy: Proxy, prefix: string, sock: string): Promise<RunningProxy> {
  mkdirSync(prefix);
  const site = { sockets: [sock], httpPort: await freeLoopbackPort(), httpsPort: await freeLoopbackPort(), cert };
  if (proxy === "haproxy") return startHaproxy(prefix, site);
  // Caddy's body limits at MAX_BODY, as its Caddyfile says: above it, the service's early 413
  // races Caddy's writing of the body, and Caddy sometimes answers 502 instead (golang/go#11745).
  if (proxy === "caddy") return startCaddy(prefix, site, { maxBody: MAX_BODY });
  const nginx = await startNginx(prefix, site);
  return {
    name: "nginx" as RunningProxy["name"],
    https: `https://127.0.0.1:${site.httpsPort}`,
    http: `http://127.0.0.1:${site.httpPort}`,
    httpsPort: site.httpsPort,
    host: "127.0.0.1",
    raw: (data, o) => rawTlsExchange(site.httpsPort, data, o),
    // The shipped site's own access_log ("$request" $status ...), not the test's http-block one.
    accessLog: nginx.siteLog,
    errorLog: nginx.errorLog,
    stop: nginx.stop,
  };
}

/** The 502 a proxy logs when the service did not answer (nginx and HAProxy: " 502 ", Caddy: "status":502). */
const PROXY_502 = /( 502 )|("status":502)/;

describe.each(Object.keys(RUNTIMES) as Runtime[])("%s", (runtime) => {
  const sock = join(dir.path, `${runtime}.sock`);
  let proc: Running;
  const proxies = {} as Record<Proxy, RunningProxy>;
  const direct: Exchange = (bytes, opts) => rawExchange(sock, bytes, opts);

  beforeAll(async () => {
    // The group the proxies' workers have (nginx's nogroup; haproxy's and caddy's, as templated).
    proc = await startListening(RUNTIMES[runtime], {
      SOCKPATH: sock,
      SOCKGROUP: "nogroup",
      MAX_BODY: String(MAX_BODY),
      SHUTDOWN_TIMEOUT: "10",
    });
    for (const proxy of PROXIES) proxies[proxy] = await startProxy(proxy, join(dir.path, `${proxy}-${runtime}`), sock);
  });
  afterAll(async () => {
    for (const proxy of Object.values(proxies)) await proxy.stop();
    proc?.kill("SIGKILL");
  });

  async function expectStillServing() {
    const { responses } = await direct(req("GET /healthz HTTP/1.1", `Host: x\r\n${close}`), {
      responses: 1,
      untilClosed: false,
    });
    expect(responses.map((r) => [r.status, r.body])).toEqual([[200, "ok\n"]]);
  }

  const label = (row: Row) => (row.pinned ? `${row.what} (runtime behaviour pinned: ${row.pinned})` : row.what);

  describe("directly on the socket", () => {
    test.each(ROWS.map((row) => [label(row), row] as const))("%s", async (_label, row) => {
      const want = expected(row, runtime, "direct");
      const result = await direct(row.bytes, waitForRow(row, want));
      expect(want.split(" or ")).toContain(outcomeOf(result, row.bytes.startsWith("HEAD ")));
      const first = result.responses[0];
      if (first) {
        for (const [name, value] of Object.entries(row.headers ?? {})) {
          if (value instanceof RegExp) expect(first.headers[name]).toMatch(value);
          else expect(first.headers[name]).toBe(value);
        }
        // A response to HTTP/1.1 after which the server closes says so (RFC 9112, 9.6), unless
        // the runtime's parser answered for itself (no request id: the app never saw it).
        const http11 = / HTTP\/1\.1\r\n/.test(row.bytes);
        if (http11 && result.closedByServer && result.responses.length === 1 && first.headers["x-request-id"]) {
          expect(first.headers.connection?.toLowerCase()).toBe("close");
        }
        // And one that says close is followed by the close (but for Deno's pinned bug).
        const denoBug = runtime === "deno" && row.pinned?.startsWith("deno-");
        if (first.headers.connection?.toLowerCase() === "close" && !denoBug) expect(result.closedByServer).toBe(true);
      }
      await expectStillServing();
    });
  });

  describe.each(PROXIES)("through %s (its shipped config)", (proxyName) => {
    test.each(ROWS.map((row) => [label(row), row] as const))("%s", async (_label, row) => {
      const proxy = proxies[proxyName];
      const want = expected(row, runtime, proxyName);
      const logged = proxy.accessLog().length;
      // Caddy serves only its site's name: the requests say that instead of "x".
      const bytes = (row.proxied ?? row.bytes).replace(/^Host: x(\r?\n)/gm, `Host: ${proxy.host}$1`);
      const got = outcomeOf(await proxy.raw(bytes, waitForRow(row, want)), row.bytes.startsWith("HEAD "));
      expect(want.split(" or ")).toContain(got);
      // The proxy never had to answer 502 for a request the service should have answered (and
      // where it did, its log says so: the check can see one).
      if (want.startsWith("502")) expect(proxy.accessLog().slice(logged)).toMatch(PROXY_502);
      else expect(proxy.accessLog().slice(logged)).not.toMatch(PROXY_502);
    });

    test("ab -k (HTTP/1.0 keep-alive), 1000 requests from 10 clients: none lost", async () => {
      const ab = Bun.spawn(["ab", "-k", "-n", "1000", "-c", "10", `${proxies[proxyName].https}/facts/1`], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = await new Response(ab.stdout).text();
      expect(await ab.exited).toBe(0);
      expect(out).toMatch(/^Complete requests:\s+1000$/m);
      expect(out).toMatch(/^Failed requests:\s+0$/m);
      expect(out).toMatch(/^Keep-Alive requests:\s+1000$/m);
      expect(out).not.toMatch(/^Non-2xx responses/m);
    });

    // HAProxy and Caddy (nginx is under load in test/rolling-restart.test.ts).
    if (proxyName !== "nginx")
      test("wrk (HTTP/1.1 keep-alive), 10 connections for 1 s: no socket error, no non-2xx", async () => {
        const wrk = Bun.spawn(["wrk", "-t", "1", "-c", "10", "-d", "1s", `${proxies[proxyName].https}/facts/1`], {
          stdout: "pipe",
          stderr: "pipe",
        });
        const out = await new Response(wrk.stdout).text();
        expect(await wrk.exited).toBe(0);
        expect(out).not.toContain("Socket errors");
        expect(out).not.toContain("Non-2xx or 3xx responses");
        expect(Number(out.match(/(\d+) requests in/)?.[1])).toBeGreaterThan(100);
      });
  });

  test("SIGTERM with a stalled, a wedged and an idle connection open: exits 0 within a second", async () => {
    const before = acceptedBy(proc.pid);
    const conns = await Promise.all(
      [
        "GET /fa",
        req("POST /fact HTTP/1.1", "Host: x\r\nContent-Length: 100\r\n", "0123"),
        req("GET /healthz HTTP/1.1"),
        "",
      ].map(async (bytes) => {
        const conn = await openRaw(sock);
        if (bytes) await conn.write(bytes);
        return conn;
      }),
    );
    await serverHolds(proc.pid, before, conns.length);
    const started = Date.now();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(proc.stderr()).toContain("all requests finished");
    expect(proc.stderr()).not.toContain("drain timed out");
    for (const conn of conns) conn.destroy();
  });
});

/**
 * The runtimes alone (test/fixtures/runtime-issues/, the servers docs/runtime-issues.md shows):
 * each test states what the runtime does today. When one fails, the runtime changed: check the
 * workaround its row names in docs/runtime-issues.md, and remove it if it is no longer needed.
 */
describe("runtime behaviour pinned (docs/runtime-issues.md)", () => {
  const fixtures = join(ROOT, "test/fixtures/runtime-issues");

  test("docs/runtime-issues.md shows the servers these pins run, as they are", () => {
    const doc = readFileSync(join(ROOT, "docs/runtime-issues.md"), "utf8");
    for (const name of ["bun-server.ts", "deno-server.ts"])
      expect(doc).toContain(`\`\`\`ts\n${readFileSync(join(fixtures, name), "utf8")}\`\`\``);
  });

  async function runtimeAlone(
    which: "bun" | "deno",
    prefix = `pin-${which}`,
    wrapper: string[] = [],
  ): Promise<{ proc: Running; sock: string }> {
    const sock = dir.socketPath(prefix);
    const command =
      which === "bun"
        ? [BUN, join(fixtures, "bun-server.ts"), sock]
        : [DENO, "run", "-A", join(fixtures, "deno-server.ts"), sock];
    const proc = start([...wrapper, ...command]);
    await waitForLog({ ...proc, stderr: proc.stdout }, "listening");
    return { proc, sock };
  }

  describe("Bun.serve", () => {
    let bun: Awaited<ReturnType<typeof runtimeAlone>>;
    beforeAll(async () => {
      bun = await runtimeAlone("bun");
    });
    afterAll(() => bun.proc.kill("SIGKILL"));

    test("bun-http10-keepalive: HTTP/1.0 with keep-alive is answered with no Connection header, then closed", async () => {
      const r = await rawExchange(bun.sock, req("GET / HTTP/1.0", "Host: x\r\nConnection: keep-alive\r\n").repeat(2), {
        untilClosed: true,
      });
      expect(outcomeOf(r)).toBe("200 close");
      expect(r.responses[0].headers.connection).toBeUndefined();
    });

    test("bun-path-bytes-replaced: raw bytes in the request target are accepted, invalid UTF-8 replaced by U+FFFD", async () => {
      const bytes = Buffer.concat([
        Buffer.from("GET /a"),
        Buffer.from([0xff, 0xc3, 0xa9]),
        Buffer.from("b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      ]);
      const r = await rawExchange(bun.sock, bytes);
      expect(r.responses[0].status).toBe(200);
      expect(r.responses[0].headers["x-path"]).toBe("/a%EF%BF%BD%C3%A9b");
    });

    test("bun-connection-close-not-echoed: a client's Connection: close is obeyed but not echoed", async () => {
      const r = await rawExchange(bun.sock, req("GET / HTTP/1.1", `Host: x\r\n${close}`), { untilClosed: true });
      expect(outcomeOf(r)).toBe("200 close");
      expect(r.responses[0].headers.connection).toBeUndefined();
    });

    test("bun-unknown-method: FOO is closed with zero bytes, the handler never called", async () => {
      const r = await rawExchange(bun.sock, req("FOO / HTTP/1.1"), { untilClosed: true });
      expect(r).toMatchObject({ received: "", closedByServer: true });
    });

    test("bun-connect-wedges: CONNECT reaches the handler, then the next request on the connection is never answered", async () => {
      const r = await rawExchange(bun.sock, req("CONNECT x:443 HTTP/1.1", "Host: x:443\r\n") + req("GET / HTTP/1.1"), {
        responses: 2,
        timeoutMs: 500,
      });
      expect(outcomeOf(r)).toBe("200");
      expect(r.responses[0].body).toBe("CONNECT host=x:443\n");
    });

    test("bun-duplicate-host: two Host headers reach the handler joined, no 400", async () => {
      const r = await rawExchange(bun.sock, req("GET / HTTP/1.1", "Host: a\r\nHost: b\r\n"));
      expect(outcomeOf(r)).toBe("200");
      expect(r.responses[0].body).toBe("GET host=a, b\n");
    });

    // Last: it stops the server.
    test("bun-stop-waits-for-stalled: stop(false) waits for a connection that never finishes its request", async () => {
      const before = acceptedBy(bun.proc.pid);
      const stalled = await openRaw(bun.sock);
      await stalled.write("GET /fa");
      await serverHolds(bun.proc.pid, before, 1);
      bun.proc.kill("SIGTERM");
      await Bun.sleep(800); // a fixed wait on purpose: that stop() has not returned by then is the pin
      expect(bun.proc.stdout()).not.toContain("stopped after");
      stalled.destroy();
      await eventually(() => bun.proc.stdout().includes("stopped after"), { what: "stop() to return" });
      expect(bun.proc.stdout()).toContain("stopped after");
    });
  });

  describe("Deno.serve", () => {
    let deno: Awaited<ReturnType<typeof runtimeAlone>>;
    beforeAll(async () => {
      deno = await runtimeAlone("deno");
    });
    afterAll(() => deno.proc.kill("SIGKILL"));

    test("deno-connection-close-ignored: a handler's Connection: close is sent, then the connection serves on", async () => {
      const r = await rawExchange(deno.sock, req("GET /close HTTP/1.1") + req("GET /next HTTP/1.1"), {
        responses: 2,
        timeoutMs: 1000,
      });
      expect(outcomeOf(r)).toBe("200 200");
      expect(r.responses[0].headers.connection).toBe("close");
    });

    test("deno-shutdown-fails-body: shutdown() fails a request whose body is still arriving with a 500", async () => {
      const { proc, sock } = await runtimeAlone("deno", "pin-deno-body");
      const before = acceptedBy(proc.pid);
      const conn = await openRaw(sock);
      await conn.write("POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      await serverHolds(proc.pid, before, 1);
      proc.kill("SIGTERM");
      await Bun.sleep(300); // a fixed wait on purpose: the rest of the body comes after shutdown() began
      await conn.write("0\r\n\r\n").catch(() => {});
      await Promise.race([conn.closed, Bun.sleep(2000)]);
      expect(conn.responses().map((r) => r.status)).toEqual([500]);
      expect(proc.stderr()).toContain("BadResource");
      conn.destroy();
      proc.kill("SIGKILL");
    });

    test("deno-accept-emfile-ends-serve: an accept failing with EMFILE ends Deno.serve (finished rejects)", async () => {
      const { proc, sock } = await runtimeAlone("deno", "pin-deno-emfile", ["prlimit", "--nofile=32:32"]);
      const conns: RawConnection[] = [];
      for (let i = 0; i < 40; i++)
        await openRaw(sock).then(
          (c) => conns.push(c),
          () => {},
        );
      // The minimal server leaves `finished` unhandled, so the process dies of it.
      expect(await Promise.race([proc.exited, Bun.sleep(5000).then(() => "still running")])).toBe(1);
      expect(proc.stderr()).toContain("Too many open files");
      for (const c of conns) c.destroy();
    });

    // Last: it stops the server.
    test("deno-shutdown-waits-for-body: shutdown() waits for a request body that never ends, though answered", async () => {
      const before = acceptedBy(deno.proc.pid);
      const stalled = await openRaw(deno.sock);
      await stalled.write(req("POST /a HTTP/1.1", "Host: x\r\nContent-Length: 100\r\n", "0123"));
      await serverHolds(deno.proc.pid, before, 1);
      deno.proc.kill("SIGTERM");
      await Bun.sleep(800); // a fixed wait on purpose: that shutdown() has not returned by then is the pin
      expect(deno.proc.stdout()).not.toContain("stopped after");
      stalled.destroy();
      await eventually(() => deno.proc.stdout().includes("stopped after"), { what: "shutdown() to return" });
      expect(deno.proc.stdout()).toContain("stopped after");
    });
  });
});

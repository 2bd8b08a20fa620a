// One service, every runtime: the compiled binary, Bun, Node and Deno, each on a Unix socket and
// on TCP, must answer exactly as the app itself does, refuse bad configuration with the same line
// and exit code, and drain the same way on SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { createApp } from "../src/http/app.ts";
import { ENV_VARS } from "../src/config.ts";
import { facts } from "../src/http/facts.ts";
import { stylesheet } from "../src/http/static.ts";
import {
  BUN,
  curl,
  denoRun,
  ENTRIES,
  type Entry,
  freePort,
  NODE_BUNDLE,
  ROOT,
  start,
  startListening,
  startService,
  tempDir,
  waitForLog,
} from "./helpers/server.ts";

const dir = tempDir();
afterAll(() => dir.cleanup());
const sockPath = () => dir.socketPath("p");
const entries = Object.keys(ENTRIES) as Entry[];

/** Requests whose answer is fully determined; `randomBody` ones pick a random fact. */
const PROBES: {
  name: string;
  method?: "HEAD" | "POST";
  path: string;
  headers?: Record<string, string>;
  randomBody?: true;
}[] = [
  { name: "a fact as text", path: "/facts/1" },
  { name: "a fact as JSON", path: "/facts/2", headers: { Accept: "application/json" } },
  { name: "a bad fact id: 400", path: "/facts/abc" },
  { name: "no such fact: 404", path: "/facts/999999" },
  { name: "health", path: "/healthz" },
  { name: "an incoming request id is kept", path: "/healthz", headers: { "X-Request-Id": "parity-42" } },
  { name: "unknown path: 404 text", path: "/nope" },
  { name: "unknown path, browser: 404 page", path: "/nope", headers: { Accept: "text/html" } },
  { name: "wrong method: 405 with Allow", method: "POST", path: "/fact" },
  { name: "HEAD: headers, no body", method: "HEAD", path: "/facts/1" },
  { name: "stylesheet, cached for a year", path: stylesheet.path },
  { name: "random fact", path: "/fact", randomBody: true },
  { name: "the page", path: "/", randomBody: true },
];

/** Headers that belong to the connection, not to the app: each runtime writes its own. */
const TRANSPORT_HEADERS = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

function appHeaders(headers: Record<string, string> | Headers, sentRequestId: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers instanceof Headers ? headers.entries() : Object.entries(headers)) {
    const key = name.toLowerCase();
    if (TRANSPORT_HEADERS.has(key)) continue;
    out[key] =
      key === "x-request-id" && !sentRequestId ? "(generated)" : key === "content-type" ? value.toLowerCase() : value;
  }
  return out;
}

const app = createApp({ facts });

/** What the app itself answers, with no runtime or network in between: the reference. */
async function expected(probe: (typeof PROBES)[number]) {
  const res = await app.request(probe.path, {
    method: probe.method ?? "GET",
    headers: probe.headers,
    body: probe.method === "POST" ? "x" : undefined,
  });
  return {
    status: res.status,
    headers: appHeaders(res.headers, "X-Request-Id" in (probe.headers ?? {})),
    body: probe.randomBody ? "(random)" : await res.text(),
  };
}

async function actual(probe: (typeof PROBES)[number], where: { socket?: string; base: string }) {
  const args = [
    ...(probe.method === "HEAD" ? ["-I"] : probe.method === "POST" ? ["-X", "POST", "-d", "x"] : []),
    ...Object.entries(probe.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
  ];
  const res = await curl(`${where.base}${probe.path}`, { socket: where.socket, args });
  expect(res.exitCode).toBe(0);
  return {
    status: res.status,
    headers: appHeaders(res.headers, "X-Request-Id" in (probe.headers ?? {})),
    body: probe.randomBody ? "(random)" : res.body,
  };
}

type Transport = "unix" | "tcp";

async function serve(command: readonly string[], transport: Transport, env: Record<string, string> = {}) {
  if (transport === "unix") {
    const socket = sockPath();
    const proc = await startListening(command, { SOCKPATH: socket, ...env });
    return { proc, socket, base: "http://x", connect: () => createConnection({ path: socket }) };
  }
  const port = await freePort();
  const proc = await startListening(command, { PORT: String(port), ...env });
  return {
    proc,
    socket: undefined,
    base: `http://[::1]:${port}`,
    connect: () => createConnection({ host: "::1", port }),
  };
}

describe.each(entries)("%s", (entry) => {
  describe.each(["unix", "tcp"] as Transport[])("on %s", (transport) => {
    let server: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => {
      server = await serve(ENTRIES[entry], transport);
    });
    afterAll(async () => {
      server.proc.kill();
      await server.proc.exited;
    });

    test.each(PROBES.map((p) => [p.name, p] as const))(
      "%s: same status, headers and body as the app",
      async (_name, probe) => {
        expect(await actual(probe, server)).toEqual(await expected(probe));
      },
    );

    // A prebuilt answer leaves a GET's Content-Length to the runtime (headers.ts): it is stated, not chunked.
    test.each(["/fact", "/facts/1", "/healthz", stylesheet.path])(
      "GET %s states its body's Content-Length",
      async (path) => {
        const get = await curl(`${server.base}${path}`, {
          socket: server.socket,
          args: ["-H", "Accept: application/json"],
        });
        expect(get.headers["content-length"]).toBe(String(Buffer.byteLength(get.body)));
        expect(get.headers["transfer-encoding"]).toBeUndefined();
      },
    );

    // RFC 9110, 8.6: a HEAD response's Content-Length, if sent, is the length GET's body would have.
    test.each(["/healthz", "/facts/1", "/nope", "/facts/abc"])(
      "HEAD %s states the Content-Length GET's body has",
      async (path) => {
        const get = await curl(`${server.base}${path}`, { socket: server.socket });
        const head = await curl(`${server.base}${path}`, { socket: server.socket, args: ["-I"] });
        expect(head.status).toBe(get.status);
        expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(get.body)));
        // Nothing but our own lines on stderr (copying a whole HEAD request made Deno warn about its signal).
        for (const line of server.proc.stderr().split("\n").filter(Boolean)) expect(line).toStartWith("printerfacts ");
      },
    );
  });

  test("/metrics reports the process's real resident memory, never a 0 it could not read", async () => {
    const server = await serve(ENTRIES[entry], "unix");
    try {
      const metrics = (await curl("http://x/metrics", { socket: server.socket })).body;
      const rss = Number(metrics.match(/^process_resident_memory_bytes (\S+)$/m)?.[1]);
      expect(rss).toBeGreaterThan(1_000_000);
      // Where a process metric cannot be read (open fds under Deno), it is absent rather than 0.
      expect(metrics).not.toMatch(/^process_open_fds 0$/m);
    } finally {
      server.proc.kill();
      await server.proc.exited;
    }
  });

  describe.each(["unix", "tcp"] as Transport[])("SIGTERM on %s", (transport) => {
    test("an idle keep-alive connection does not hold up the drain: closed at once, exit 0", async () => {
      // Shorter than Node's 5 s keep-alive timeout: a drain that waited for the idle connection to
      // time out by itself would end in "drain timed out" instead.
      const server = await serve(ENTRIES[entry], transport, { SHUTDOWN_TIMEOUT: "4" });
      const conn = keepAliveRequest(server.connect(), "/healthz", "ok\n");
      expect(await conn.response).toStartWith("HTTP/1.1 200");
      server.proc.kill("SIGTERM");
      await conn.closed;
      expect(await server.proc.exited).toBe(0);
      expect(server.proc.stderr()).toContain("all requests finished");
      expect(server.proc.stderr()).not.toContain("drain timed out");
      if (server.socket) expect(existsSync(server.socket)).toBe(false);
    });
  });
});

/** The drain test needs a request truly in flight: the app plus GET /slow, on each runtime. */
const SLOW = {
  bun: [BUN, join(ROOT, "test/fixtures/slow-server.ts")],
  node: ["node", join(NODE_BUNDLE, "../slow-server.mjs")],
  deno: denoRun(join(ROOT, "test/fixtures/slow-server.ts")),
};

describe.each(Object.keys(SLOW) as (keyof typeof SLOW)[])("%s drain", (runtime) => {
  test.each(["unix", "tcp"] as Transport[])(
    "on %s: a slow request in flight at SIGTERM completes, then its connection is closed, the socket removed, exit 0",
    async (transport) => {
      // The request takes 1 s of the 4 s allowed. Node keeps a connection open for 5 s after its
      // last request unless told otherwise: that would end in "drain timed out".
      const server = await serve(SLOW[runtime], transport, { SHUTDOWN_TIMEOUT: "4" });
      const conn = keepAliveRequest(server.connect(), "/slow?ms=1000", "slow done\n");
      await waitForLog(server.proc, "slow request started");
      server.proc.kill("SIGTERM");
      if (server.socket) {
        await waitForLog(server.proc, `removed socket ${server.socket}`);
        // Out of view at once: a new client fails fast instead of queueing behind the drain.
        expect(await connectResult(server.connect())).toBe("ENOENT");
      }
      expect(await conn.response).toStartWith("HTTP/1.1 200");
      await conn.closed;
      expect(await server.proc.exited).toBe(0);
      expect(server.proc.stderr()).toContain("all requests finished");
      expect(server.proc.stderr()).not.toContain("drain timed out");
    },
  );

  test("SHUTDOWN_TIMEOUT cuts a request that runs too long, then exits 0", async () => {
    const server = await serve(SLOW[runtime], "unix", { SHUTDOWN_TIMEOUT: "1" });
    const conn = keepAliveRequest(server.connect(), "/slow?ms=60000", "slow done\n");
    conn.response.catch(() => {});
    await waitForLog(server.proc, "slow request started");
    server.proc.kill("SIGTERM");
    await conn.closed;
    expect(await server.proc.exited).toBe(0);
    expect(server.proc.stderr()).toContain("drain timed out after 1s; cut the remaining connections");
    await expect(conn.response).rejects.toThrow("connection closed before the whole answer");
  });
});

describe("bad configuration and arguments: the same line and exit code on every runtime", () => {
  const live = join(dir.path, "live.sock");
  let owner: Awaited<ReturnType<typeof startListening>>;
  beforeAll(async () => {
    owner = await startListening(ENTRIES.binary, { SOCKPATH: live });
  });
  afterAll(async () => {
    owner.kill();
    await owner.exited;
  });

  const cases: [string, Record<string, string>, string[], number, string | RegExp][] = [
    [
      "PORT not a number",
      { PORT: "abc" },
      [],
      78,
      'printerfacts error: config: PORT="abc" must be a whole number from 1 to 65535',
    ],
    [
      "SOCKPATH and PORT",
      { SOCKPATH: "/run/x.sock", PORT: "8080" },
      [],
      78,
      "printerfacts error: config: SOCKPATH and PORT are both set",
    ],
    ["empty SOCKPATH", { SOCKPATH: "" }, [], 78, "printerfacts error: config: SOCKPATH is set but empty"],
    [
      "LISTEN_FDS=2",
      { LISTEN_FDS: "2", LISTEN_PID: "1" },
      [],
      78,
      'printerfacts error: config: LISTEN_FDS="2" must be 1',
    ],
    [
      "LISTEN_PID of another process",
      { LISTEN_FDS: "1", LISTEN_PID: "1" },
      [],
      78,
      /^printerfacts error: config: LISTEN_PID=1 is not this process \(\d+\)/,
    ],
    [
      "another process serving on SOCKPATH",
      { SOCKPATH: live },
      [],
      1,
      `printerfacts error: another process is serving on ${live}; stop it first`,
    ],
    ["unknown argument", {}, ["--bogus"], 64, 'printerfacts error: unknown argument "--bogus"'],
  ];
  test.each(entries.flatMap((entry) => cases.map((c) => [entry, ...c] as const)))(
    "%s: %s",
    async (entry, _name, env, args, code, line) => {
      const proc = startService([...ENTRIES[entry], ...args], env);
      expect(await proc.exited).toBe(code);
      const stderr = proc.stderr().trimEnd();
      expect(stderr.split("\n")).toHaveLength(1);
      if (typeof line === "string") expect(stderr).toStartWith(line);
      else expect(stderr).toMatch(line);
    },
  );

  test.each(entries)("%s: --version names the runtime", async (entry) => {
    const proc = start([...ENTRIES[entry], "--version"]);
    expect(await proc.exited).toBe(0);
    const runtime = entry === "binary" ? "bun" : entry.split(" ")[0];
    expect(proc.stdout()).toMatch(
      new RegExp(`^printerfacts \\d+\\.\\d+\\.\\d+ \\(${runtime} \\d+\\.\\d+\\.\\d+\\)\\n$`),
    );
  });
});

test("scripts/deno-run lets Deno read every variable config.ts reads (a new one must be added there)", () => {
  const script = readFileSync(join(ROOT, "scripts/deno-run"), "utf8");
  const allowed = script.match(/--allow-env=(\S+)/)?.[1].split(",") ?? [];
  expect(ENV_VARS.filter((name) => !allowed.includes(name))).toEqual([]);
});

/** One keep-alive HTTP/1.1 request on a raw connection, which stays open after the answer. */
function keepAliveRequest(socket: Socket, path: string, body: string) {
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const response = new Promise<string>((resolve, reject) => {
    let got = "";
    socket.once("error", reject);
    socket.on("data", (d) => {
      got += d;
      if (got.endsWith(`\r\n\r\n${body}`)) resolve(got);
    });
    closed.then(() => reject(new Error(`connection closed before the whole answer; got ${JSON.stringify(got)}`)));
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
  return { response, closed };
}

/** Connect and see whether anyone answers: "ok", or the error code. */
function connectResult(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once("connect", () => {
      socket.destroy();
      resolve("ok");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

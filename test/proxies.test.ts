// HAProxy and Caddy, each with its shipped config, in front of two instances of the compiled
// binary run as an operator runs them: what the nginx site promises holds for them too (TLS,
// /metrics kept private, the proxy's request id and the real client in our log, bodies and
// unknown methods refused), and a rolling restart under ab -k and wrk loses no request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCaddy } from "./helpers/caddy.ts";
import { startHaproxy } from "./helpers/haproxy.ts";
import { eventually } from "./helpers/eventually.ts";
import { freePort } from "./helpers/nginx.ts";
import { type ProxySite, type RunningProxy, serviceLog, startInstance, testCert } from "./helpers/proxy.ts";
import { curl, type Running, runtimeDir, SERVICE, tempDir } from "./helpers/server.ts";

const dir = tempDir();
const cert = testCert(dir.path);
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  dir.cleanup();
});

const STARTERS = { haproxy: startHaproxy, caddy: startCaddy } as const;

/** Two instances (a, b), each on its own socket in its own runtime directory, behind `name`. */
async function stack(name: keyof typeof STARTERS) {
  const prefix = join(dir.path, name);
  mkdirSync(prefix);
  const sockets = ["a", "b"].map((n) => runtimeDir(prefix, n));
  const instances: Running[] = await Promise.all(sockets.map((sock) => startInstance(sock)));
  cleanups.push(() => {
    for (const p of instances) p.kill("SIGKILL");
  });
  const site: ProxySite = { sockets, httpPort: await freePort(), httpsPort: await freePort(), cert };
  const proxy = await STARTERS[name](prefix, site);
  cleanups.push(() => proxy.stop());
  const lines = () => instances.flatMap(serviceLog);
  return { proxy, sockets, instances, lines };
}

const through = (proxy: RunningProxy, path: string, args: string[] = []) =>
  curl(`${proxy.https}${path}`, { args: ["-k", "--path-as-is", ...args] });

type Lines = () => Array<Record<string, unknown>>;
type Match = (l: Record<string, unknown>) => boolean;

/** Wait until one of the instances has logged a request matching `match`. */
function logged(lines: Lines, match: Match) {
  return eventually(() => lines().find(match), {
    what: `a line matching ${match} in the service's access log`,
    timeoutMs: 2000,
  });
}

/** The line matching `match` that the instances logged within 300 ms, if any. */
async function loggedWithin300ms(lines: Lines, match: Match) {
  // A fixed wait on purpose: that no such line comes (lines are written every 100 ms at most) is what is tested.
  await Bun.sleep(300);
  return lines().find(match);
}

/** Run `command` (ab or wrk, bounded by time) while both instances are restarted, a then b. */
async function restartUnderLoad(s: Awaited<ReturnType<typeof stack>>, command: string[]) {
  const already = s.instances.map((p) => serviceLog(p).length);
  const load = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  let finished = false;
  const output = Promise.all([new Response(load.stdout).text(), new Response(load.stderr).text(), load.exited]).then(
    (r) => {
      finished = true;
      return r;
    },
  );
  // Under way: both instances are answering it (beyond what they logged before it).
  await eventually(() => s.instances.every((p, i) => serviceLog(p).length >= already[i] + 20), {
    what: "20 answers to the load from each instance",
  });
  for (const [i, sock] of s.sockets.entries()) {
    const other = s.instances[1 - i];
    const before = serviceLog(other).length;
    s.instances[i].kill("SIGTERM");
    expect(await s.instances[i].exited).toBe(0);
    s.instances[i] = await startInstance(sock);
    // The other instance carried the load meanwhile.
    expect(serviceLog(other).length).toBeGreaterThan(before);
    // The successor takes its share before the other one goes.
    const successor = s.instances[i];
    await eventually(() => serviceLog(successor).filter((l) => l.path === "/fact").length >= 20, {
      what: `20 answers to the load from the successor on ${sock}`,
    });
  }
  // The restarts happened under load, not after it.
  expect(finished).toBe(false);
  const [stdout, stderr, code] = await output;
  // Both successors answered requests through the proxy.
  for (const successor of s.instances) expect(serviceLog(successor).some((l) => l.path === "/fact")).toBe(true);
  return { stdout, stderr, code };
}

describe.each(Object.keys(STARTERS) as Array<keyof typeof STARTERS>)("%s with the shipped config", (name) => {
  let s: Awaited<ReturnType<typeof stack>>;
  beforeAll(async () => {
    s = await stack(name);
  });

  test("/fact is 200 over HTTPS (HTTP/1.1 and h2), with HSTS; plain HTTP redirects to HTTPS", async () => {
    for (const version of ["--http1.1", "--http2"]) {
      const r = await through(s.proxy, "/fact", [version]);
      expect(r.status, version).toBe(200);
      expect(r.body).toMatch(/^.+\n$/);
      expect(r.headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
    }
    const redirect = await curl(`${s.proxy.http}/fact?x=1`);
    expect([301, 308]).toContain(redirect.status);
    expect(redirect.headers.location).toStartWith("https://127.0.0.1");
    expect(redirect.headers.location).toEndWith("/fact?x=1");
  });

  test("/metrics is answered 404 by the proxy, however it is spelt, and never reaches the service", async () => {
    const paths = [
      "/metrics",
      "/metrics?format=prometheus",
      "/%6Detrics",
      "//metrics",
      "/./metrics",
      "/x/../metrics",
      "/%2e/metrics",
      "/metrics/",
    ];
    for (const path of paths) expect((await through(s.proxy, path)).status, path).toBe(404);
    // The service itself would answer several of these spellings with the metrics.
    expect(await loggedWithin300ms(s.lines, (l) => String(l.path).includes("metrics"))).toBeUndefined();
  });

  test("the proxy's request id replaces the client's, and is in the proxy's log and ours", async () => {
    const r = await through(s.proxy, "/fact", ["-H", "X-Request-Id: client-chosen-id"]);
    expect(r.status).toBe(200);
    const id = r.headers["x-request-id"];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await logged(s.lines, (l) => l.request_id === id)).toMatchObject({
      method: "GET",
      path: "/fact",
      status: 200,
    });
    expect(s.lines().some((l) => l.request_id === "client-chosen-id")).toBe(false);
    await eventually(() => s.proxy.accessLog().includes(id), {
      what: `${id} in the proxy's access log`,
      timeoutMs: 2000,
    });
    expect(s.proxy.accessLog()).toContain(id);
  });

  test("our log shows the client the proxy saw, not the X-Forwarded-For or X-Real-IP it sent", async () => {
    const r = await through(s.proxy, "/fact", ["-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Real-IP: 203.0.113.9"]);
    const id = r.headers["x-request-id"];
    expect(await logged(s.lines, (l) => l.request_id === id)).toMatchObject({ client: "127.0.0.1" });
  });

  test("CONNECT is refused by the proxy (400, 421 or 501), never passed to the service", async () => {
    const r = await s.proxy.raw(`CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n`, { timeoutMs: 2000 });
    expect([400, 421, 501]).toContain(r.responses[0]?.status);
    expect(await loggedWithin300ms(s.lines, (l) => l.method === "CONNECT")).toBeUndefined();
  });

  test("an unknown method is 501 from the proxy (Bun would drop it: 502), and the next request is served", async () => {
    const r = await s.proxy.raw(
      `FOO /fact HTTP/1.1\r\nHost: ${s.proxy.host}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: ${s.proxy.host}\r\n\r\n`,
      { responses: 2 },
    );
    expect(r.responses.map((x) => x.status)).toEqual([501, 200]);
  });

  // HTTP/1.1 only: over h2 both proxies end the stream after their 413 (RST_STREAM) while the body
  // is still coming, and curl 7.88 then reports an error instead of the answer it received.
  test("a request body over 16 KiB is refused with 413 before the service", async () => {
    const body = join(dir.path, "body-20k");
    writeFileSync(body, "x".repeat(20 * 1024));
    // No Expect: 100-continue, so the body comes with the request, as most clients send it.
    const big = await through(s.proxy, "/fact", [
      "--http1.1",
      "-H",
      "Expect:",
      "-X",
      "POST",
      "--data-binary",
      `@${body}`,
    ]);
    expect(big.status).toBe(413);
    expect(await loggedWithin300ms(s.lines, (l) => l.method === "POST")).toBeUndefined();
  });

  test("rolling restart of a, then b, under ab -k: 0 failed requests", async () => {
    const { stdout, stderr, code } = await restartUnderLoad(s, [
      "ab",
      "-k",
      "-l",
      "-q",
      "-t",
      "5",
      "-n",
      "1000000",
      "-c",
      "10",
      `${s.proxy.https}/fact`,
    ]);
    expect(code, stderr).toBe(0);
    const complete = Number(stdout.match(/Complete requests:\s+(\d+)/)?.[1]);
    expect(stdout).toMatch(/Failed requests:\s+0\n/);
    expect(stdout).not.toContain("Non-2xx responses");
    expect(complete).toBeGreaterThan(1000);
    // Client keep-alive held across the restarts: ab opened few connections for all those requests.
    expect(Number(stdout.match(/Keep-Alive requests:\s+(\d+)/)?.[1])).toBeGreaterThan(complete * 0.95);
  }, 30_000);

  test("rolling restart of a, then b, under wrk: 0 failed requests", async () => {
    const { stdout, stderr, code } = await restartUnderLoad(s, [
      "wrk",
      "-t",
      "1",
      "-c",
      "10",
      "-d",
      "5s",
      `${s.proxy.https}/fact`,
    ]);
    expect(code, stderr).toBe(0);
    // On failure, the proxy's log lines for what did not go through.
    const failures = s.proxy
      .accessLog()
      .split("\n")
      .filter((l) => /(" 50\d |\b50\d\b.*(--|SH|SC|SD))|"status":50\d/.test(l))
      .slice(0, 5)
      .join("\n");
    expect(stdout, failures).not.toContain("Socket errors");
    expect(stdout, failures).not.toContain("Non-2xx or 3xx responses");
    expect(Number(stdout.match(/(\d+) requests in/)?.[1])).toBeGreaterThan(1000);
  }, 30_000);
});

// Why the shipped files say what they say about groups: the socket is 0660, so the proxy's
// workers must have the socket's group, and each proxy gets its groups differently.
describe("the socket's group", () => {
  test("HAProxy drops supplementary groups: with `group haproxy` the socket's group is not enough (503)", async () => {
    const prefix = join(dir.path, "haproxy-groups");
    mkdirSync(prefix);
    const sock = runtimeDir(prefix, "a");
    const service = await startInstance(sock);
    cleanups.push(() => service.kill("SIGKILL"));
    const site = { sockets: [sock], httpPort: await freePort(), httpsPort: await freePort(), cert };
    // The master holds the socket's group (as `adduser haproxy printerfacts` would give it).
    const proxy = await startHaproxy(prefix, site, {
      group: "haproxy",
      wrapper: ["setpriv", `--groups=${SERVICE.gid}`],
    });
    cleanups.push(() => proxy.stop());
    expect((await through(proxy, "/fact")).status).toBe(503);
    // SC: the server refused the connection (EACCES), on every retry.
    expect(proxy.accessLog()).toMatch(/ printerfacts\/s0 .* 503 .* SC-- /);
  });

  // 502 after lb_try_duration (5s): Caddy keeps retrying the dial, then gives up.
  test("Caddy without the socket's group is refused: 502, permission denied", async () => {
    const prefix = join(dir.path, "caddy-groups");
    mkdirSync(prefix);
    const sock = runtimeDir(prefix, "a");
    const service = await startInstance(sock);
    cleanups.push(() => service.kill("SIGKILL"));
    const site = { sockets: [sock], httpPort: await freePort(), httpsPort: await freePort(), cert };
    const proxy = await startCaddy(prefix, site, { groups: [] });
    cleanups.push(() => proxy.stop());
    expect((await through(proxy, "/fact")).status).toBe(502);
    expect(proxy.errorLog()).toContain(`dial unix ${sock}: connect: permission denied`);
  });
});

// The article's story with a real nginx in front of the real binary: a 0660 socket that nginx's
// workers may not open is a 502 with "(13: Permission denied)"; the socket's group fixes it. The
// service runs as the tests' service user (nobody), nginx's workers as Debian's (www-data). Then
// what the shipped site promises: HSTS, /metrics kept private, headers overwritten, and
// instances restarted one at a time with no failed request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { freePort, type Nginx, type NginxOptions, selfSignedCert, startNginx, WWW_DATA } from "./helpers/nginx.ts";
import { BINARY, curl, type Running, startListening, tempDir } from "./helpers/server.ts";

const dir = tempDir();
const cert = selfSignedCert(dir.path);
const running: Array<Running | Nginx> = [];
afterAll(async () => {
  for (const r of running) "stop" in r ? await r.stop() : r.kill("SIGKILL");
  dir.cleanup();
});

let counter = 0;
async function backend(
  env: Record<string, string> = {},
  groups: number[] = [],
): Promise<{ proc: Running; sock: string }> {
  const sock = join(dir.path, `pf${++counter}.sock`);
  const proc = await startListening([BINARY], { SOCKPATH: sock, ...env }, { groups });
  running.push(proc);
  return { proc, sock };
}

/** The socket given to the workers' group, the service user in it (as SupplementaryGroups= puts it there). */
const forWorkers = (env: Record<string, string> = {}) => backend({ SOCKGROUP: WWW_DATA.user, ...env }, [WWW_DATA.gid]);

async function nginx(sockets: string[], opts: NginxOptions = {}) {
  const prefix = join(dir.path, `nginx${++counter}`);
  mkdirSync(prefix);
  const site = { sockets, httpPort: await freePort(), httpsPort: await freePort(), cert };
  const n = await startNginx(prefix, site, { user: WWW_DATA.directive, ...opts });
  running.push(n);
  return { ...n, https: `https://127.0.0.1:${site.httpsPort}`, http: `http://127.0.0.1:${site.httpPort}` };
}

const viaNginx = (url: string, args: string[] = []) => curl(url, { args: ["-k", ...args] });

describe("the article's 502, reproduced and fixed", () => {
  test("a 0660 socket of the service's own group: nginx's workers (www-data) are refused, 502, (13: Permission denied)", async () => {
    const { sock } = await backend();
    const n = await nginx([sock]);
    const r = await viaNginx(`${n.https}/fact`);
    expect(r.status).toBe(502);
    expect(n.errorLog()).toContain(`connect() to unix:${sock} failed (13: Permission denied)`);
  });

  test("SOCKGROUP=www-data, the workers' group: /fact is 200 through nginx", async () => {
    const { sock } = await forWorkers();
    const n = await nginx([sock]);
    const r = await viaNginx(`${n.https}/fact`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^.+\n$/);
    expect(n.errorLog()).not.toContain("Permission denied");
  });

  // What the nginx.service.d drop-in's comment says: SupplementaryGroups= reaches the workers only
  // when the master is not root. Here the socket's group is daemon (gid 1), which www-data is not in.
  test("a supplementary group on a root master does not reach the workers (initgroups): still 502", async () => {
    const { sock } = await backend({ SOCKGROUP: "daemon" }, [1]);
    const n = await nginx([sock], { wrapper: ["setpriv", "--groups=1"] });
    expect((await viaNginx(`${n.https}/fact`)).status).toBe(502);
    expect(n.errorLog()).toContain("(13: Permission denied)");
  });

  test("the same supplementary group on an unprivileged master (as NixOS runs nginx): 200", async () => {
    const { sock } = await backend({ SOCKGROUP: "daemon" }, [1]);
    const n = await nginx([sock], {
      wrapper: ["setpriv", `--reuid=${WWW_DATA.uid}`, `--regid=${WWW_DATA.gid}`, "--groups=1"],
      user: null,
      owner: WWW_DATA.uid,
    });
    expect((await viaNginx(`${n.https}/fact`)).status).toBe(200);
  });
});

describe("the shipped site", () => {
  let n: Awaited<ReturnType<typeof nginx>>;
  beforeAll(async () => {
    const b = await forWorkers();
    n = await nginx([b.sock]);
  });

  test("HTTPS carries HSTS (the backend does not send it); plain HTTP redirects to HTTPS", async () => {
    const r = await viaNginx(`${n.https}/fact`);
    expect(r.headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
    const redirect = await curl(`${n.http}/fact?x=1`, { args: ["-H", "Host: printerfacts.example.com"] });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe("https://printerfacts.example.com/fact?x=1");
  });

  test("/metrics is answered 404 by nginx itself, however it is spelt, and never reaches the service", async () => {
    for (const path of [
      "/metrics",
      "/metrics?format=prometheus",
      "/%6Detrics",
      "//metrics",
      "/./metrics",
      "/metrics/",
    ]) {
      const r = await viaNginx(`${n.https}${path}`, ["--path-as-is"]);
      expect(r.status, path).toBe(404);
      // Every response of the service carries X-Request-Id; nginx's own 404 does not.
      expect(r.headers["x-request-id"], path).toBeUndefined();
    }
    expect((await viaNginx(`${n.https}/healthz`)).headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("the request id the service answers with is nginx's $request_id, not one the client made up", async () => {
    const r = await viaNginx(`${n.https}/fact`, ["-H", "X-Request-Id: client-chosen"]);
    expect(r.status).toBe(200);
    expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("a request body over client_max_body_size is refused by nginx with 413, before the service", async () => {
    const big = await viaNginx(`${n.https}/fact`, ["-X", "POST", "--data-binary", `@${BINARY}`]);
    expect(big.status).toBe(413);
    expect(big.headers["x-request-id"]).toBeUndefined();
  });
});

// LOG_FORMAT=json: one JSON line per request on stdout with "client" and "request_id".
describe("with the access log", () => {
  test("the service's access log shows the client address nginx passed, and nginx's request id", async () => {
    const { proc, sock } = await forWorkers({ LOG_FORMAT: "json" });
    const n = await nginx([sock]);
    const r = await viaNginx(`${n.https}/fact`, ["-H", "X-Forwarded-For: 203.0.113.9", "-H", "X-Real-IP: 203.0.113.9"]);
    expect(r.status).toBe(200);
    await eventually(() => proc.stdout().includes('"path":"/fact"'), {
      what: () => `the service's access line for /fact; stdout: ${proc.stdout()}`,
      timeoutMs: 1000,
    });
    const line = proc
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((entry) => entry.path === "/fact");
    expect(line).toMatchObject({
      method: "GET",
      path: "/fact",
      status: 200,
      client: "127.0.0.1",
      request_id: r.headers["x-request-id"],
    });
  });
});

describe("one request id in both logs (the shipped log_format)", () => {
  test("the id the client got is in nginx's access log and in the service's, on the line for that request", async () => {
    const { proc, sock } = await forWorkers();
    const n = await nginx([sock]);
    const r = await viaNginx(`${n.https}/facts/7`);
    expect(r.status).toBe(200);
    const id = r.headers["x-request-id"];
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const ours = () =>
      proc
        .stdout()
        .split("\n")
        .filter((l) => l.includes(`request_id=${id}`));
    const theirs = () =>
      n
        .siteLog()
        .split("\n")
        .filter((l) => l.includes(`request_id=${id}`));
    await eventually(() => ours().length > 0 && theirs().length > 0, {
      what: () => `request_id=${id} in the service's log (${ours().length} lines) and nginx's (${theirs().length})`,
      timeoutMs: 2000,
    });
    expect(ours()).toHaveLength(1);
    expect(ours()[0]).toContain("path=/facts/7 status=200");
    expect(theirs()).toHaveLength(1);
    expect(theirs()[0]).toContain('"GET /facts/7 HTTP/2.0" 200');
    expect(theirs()[0]).toContain(`upstream=unix:${sock} upstream_status=200`);
  });
});

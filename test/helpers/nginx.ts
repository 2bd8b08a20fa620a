// A real nginx for tests: the shipped deploy/nginx/printerfacts.conf with only its socket paths,
// ports and certificate templated, inside a minimal nginx.conf of the test's own (temp prefix,
// loopback ports, workers as nobody:nogroup). The master runs as root, as Debian's does.
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./eventually.ts";
import { testCert } from "./proxy.ts";
import { ROOT, type Running, start } from "./server.ts";

export const SHIPPED_CONF = join(ROOT, "deploy/nginx/printerfacts.conf");
const SHIPPED_SOCKET_LINE = "server unix:/run/printerfacts/printerfacts.sock max_fails=0;";

/** Replace `from` with `to`, failing loudly if the shipped file no longer has `from`. */
function replaceExactly(text: string, from: string, to: string): string {
  if (!text.includes(from))
    throw new Error(`deploy/nginx/printerfacts.conf no longer contains ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

/** A self-signed certificate for 127.0.0.1, made with the real openssl (the proxies' helper). */
export const selfSignedCert = testCert;

/** Debian's nginx workers' user (and group), for tests where they must not be the service's user. */
export const WWW_DATA = { user: "www-data", uid: 33, gid: 33, directive: "www-data www-data" } as const;

export interface SiteOptions {
  sockets: string[];
  httpPort: number;
  httpsPort: number;
  cert: { cert: string; key: string };
}

/** The shipped site config, pointed at test sockets, loopback ports and a test certificate. */
export function renderSite({ sockets, httpPort, httpsPort, cert }: SiteOptions, accessLogPath: string): string {
  let conf = readFileSync(SHIPPED_CONF, "utf8");
  conf = replaceExactly(conf, SHIPPED_SOCKET_LINE, sockets.map((s) => `server unix:${s} max_fails=0;`).join("\n    "));
  conf = replaceExactly(conf, "listen 80;", `listen 127.0.0.1:${httpPort};`);
  conf = replaceExactly(conf, "listen [::]:80;", "");
  conf = replaceExactly(conf, "listen 443 ssl http2;", `listen 127.0.0.1:${httpsPort} ssl http2;`);
  conf = replaceExactly(conf, "listen [::]:443 ssl http2;", "");
  conf = replaceExactly(conf, "/etc/letsencrypt/live/printerfacts.example.com/fullchain.pem", cert.cert);
  conf = replaceExactly(conf, "/etc/letsencrypt/live/printerfacts.example.com/privkey.pem", cert.key);
  conf = replaceExactly(
    conf,
    "access_log /var/log/nginx/printerfacts.access.log printerfacts;",
    `access_log ${accessLogPath} printerfacts;`,
  );
  return conf;
}

/** nginx.conf around the site: everything nginx writes stays under `prefix`. */
export function mainConf(
  prefix: string,
  site: string,
  { user = "nobody nogroup" }: { user?: string | null } = {},
): string {
  const temp = (name: string) => `${name}_temp_path ${join(prefix, "temp", name)};`;
  return `${user === null ? "" : `user ${user};`}
worker_processes 1;
daemon off;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} info;
events { worker_connections 256; }
http {
    log_format upstream '$status $upstream_addr $upstream_status';
    access_log ${join(prefix, "access.log")} upstream;
    ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n    ")}
    include ${site};
}
`;
}

export interface Nginx {
  proc: Running;
  errorLog(): string;
  /** The http block's log ($status $upstream_addr $upstream_status), for servers without their own. */
  accessLog(): string;
  /** The shipped site's access_log, in its printerfacts log_format (with request_id=). */
  siteLog(): string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Run the master with these argv in front (e.g. setpriv to change its groups or user). */
  wrapper?: string[];
  /** The `user` directive; null leaves it out (a master that is not root ignores it anyway). */
  user?: string | null;
  /** uid:gid that owns the prefix, for a master that is not root (it also gets to read the key). */
  owner?: number;
}

/** Write the configs under `prefix` and check them with `nginx -t`; returns the nginx.conf path. */
export function writeConfig(prefix: string, site: SiteOptions, opts: NginxOptions = {}): string {
  mkdirSync(join(prefix, "temp"), { recursive: true });
  const sitePath = join(prefix, "printerfacts.conf");
  writeFileSync(sitePath, renderSite(site, join(prefix, "printerfacts.access.log")));
  const confPath = join(prefix, "nginx.conf");
  writeFileSync(confPath, mainConf(prefix, sitePath, { user: opts.user }));
  if (opts.owner !== undefined) {
    for (const path of [prefix, join(prefix, "temp"), site.cert.key]) chownSync(path, opts.owner, opts.owner);
  }
  return confPath;
}

export function nginxTest(confPath: string, prefix: string): { status: number | null; output: string } {
  const r = spawnSync("nginx", ["-t", "-p", prefix, "-c", confPath], { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Start nginx in the foreground and wait until it accepts on `port`. */
export async function startNginx(prefix: string, site: SiteOptions, opts: NginxOptions = {}): Promise<Nginx> {
  return runNginx(prefix, writeConfig(prefix, site, opts), site.httpPort, opts);
}

/** Start nginx on a config already written under `prefix`, and wait until it accepts on `port`. */
export async function runNginx(
  prefix: string,
  confPath: string,
  port: number,
  opts: NginxOptions = {},
): Promise<Nginx> {
  const proc = start([...(opts.wrapper ?? []), "nginx", "-p", prefix, "-c", confPath]);
  const read = (name: string) => {
    try {
      return readFileSync(join(prefix, name), "utf8");
    } catch {
      return "";
    }
  };
  let exitCode: number | undefined;
  proc.exited.then((code) => {
    exitCode = code;
  });
  // Never an empty reason: how it ended, and whatever nginx said on stderr and in its error log.
  const said = () =>
    `stderr: ${proc.stderr().trim() || "(nothing)"}; error.log: ${read("error.log").trim() || "(nothing)"}`;
  await eventually(
    async () => {
      try {
        const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
        socket.end();
        return true;
      } catch {
        if (exitCode !== undefined) throw new Error(`nginx exited with ${exitCode}; ${said()}`);
        return false;
      }
    },
    { what: () => `nginx to accept on its port; ${said()}`, timeoutMs: 3000 },
  );
  return {
    proc,
    errorLog: () => read("error.log"),
    accessLog: () => read("access.log"),
    siteLog: () => read("printerfacts.access.log"),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port ?? 0;
  await server.stop(true);
  return port;
}

// A real Caddy for tests: the shipped deploy/caddy/Caddyfile with only its socket paths, ports,
// site name and certificate templated, run as Debian's caddy.service runs it (`caddy run
// --environ`, as the caddy user, with the socket's group as a supplementary group, as systemd's
// User=caddy gives it after `adduser caddy printerfacts`). Everything under a prefix.
import { chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningProxy, type ProxySite, rawTlsExchange, replaceExactly, waitForPort } from "./proxy.ts";
import { ROOT, SERVICE, start } from "./server.ts";

export const SHIPPED_CADDYFILE = join(ROOT, "deploy/caddy/Caddyfile");
const SHIPPED_UPSTREAMS = "unix//run/printerfacts-1/printerfacts.sock unix//run/printerfacts-2/printerfacts.sock";

function idOf(flag: "-u" | "-g", name: string): number {
  const r = Bun.spawnSync(["id", flag, name]);
  if (r.exitCode !== 0) throw new Error(`no user ${name} on this host (Debian's caddy package makes it)`);
  return Number(`${r.stdout}`.trim());
}

/**
 * The shipped Caddyfile pointed at test sockets, loopback ports and the test certificate: the
 * global block gets the ports, a loopback bind and an admin socket under `prefix` (instead of
 * localhost:2019, which parallel tests would share); the site 127.0.0.1 instead of the domain,
 * with the test certificate (Caddy would otherwise ask an ACME CA for one).
 */
export function renderCaddyfile(
  { sockets, httpPort, httpsPort }: ProxySite,
  files: { cert: string; key: string; admin: string },
  maxBody?: number,
): string {
  const r = (text: string, from: string, to: string) => replaceExactly("deploy/caddy/Caddyfile", text, from, to);
  let text = readFileSync(SHIPPED_CADDYFILE, "utf8");
  text = r(
    text,
    "\n{\n",
    `\n{\n\thttp_port ${httpPort}\n\thttps_port ${httpsPort}\n\tdefault_bind 127.0.0.1\n\tadmin unix/${files.admin}\n`,
  );
  text = r(text, "\nprinterfacts.example.com {\n", `\n127.0.0.1 {\n\ttls ${files.cert} ${files.key}\n`);
  text = r(
    text,
    `reverse_proxy ${SHIPPED_UPSTREAMS} {`,
    `reverse_proxy ${sockets.map((s) => `unix/${s}`).join(" ")} {`,
  );
  if (maxBody !== undefined) {
    text = r(
      text,
      "int({http.request.header.Content-Length}) > 16384`",
      `int({http.request.header.Content-Length}) > ${maxBody}\``,
    );
    text = r(text, "max_size 16KB", `max_size ${maxBody}`);
  }
  return text;
}

export interface CaddyOptions {
  /** Supplementary groups of the caddy process (default: the service's group). */
  groups?: number[];
  /** The service's MAX_BODY, when it is not the default: Caddy's body limits are set to it, as the Caddyfile says. */
  maxBody?: number;
}

/** Render into `prefix`, validate, start Caddy in the foreground and wait until it listens. */
export async function startCaddy(prefix: string, site: ProxySite, opts: CaddyOptions = {}): Promise<RunningProxy> {
  const uid = idOf("-u", "caddy");
  const gid = idOf("-g", "caddy");
  // Caddy's own state (its home on Debian is /var/lib/caddy) and a key it can read.
  const home = join(prefix, "caddy-home");
  mkdirSync(home, { recursive: true });
  const files = { cert: join(home, "cert.pem"), key: join(home, "key.pem"), admin: join(home, "admin.sock") };
  copyFileSync(site.cert.cert, files.cert);
  copyFileSync(site.cert.key, files.key);
  for (const path of [home, files.cert, files.key]) chownSync(path, uid, gid);
  const caddyfile = join(prefix, "Caddyfile");
  writeFileSync(caddyfile, renderCaddyfile(site, files, opts.maxBody));

  const groups = (opts.groups ?? [SERVICE.gid]).join(",");
  const asCaddy = [
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${gid}`,
    groups === "" ? "--clear-groups" : `--groups=${groups}`,
    "--",
  ];
  const env = { HOME: home, XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config") };
  const validate = Bun.spawnSync([...asCaddy, "caddy", "validate", "--config", caddyfile], {
    env: { PATH: process.env.PATH, ...env },
  });
  if (validate.exitCode !== 0) throw new Error(`caddy validate refused ${caddyfile}:\n${validate.stderr}`);
  // As caddy.service's ExecStart.
  const proc = start([...asCaddy, "caddy", "run", "--environ", "--config", caddyfile], env);
  await waitForPort(site.httpsPort, () => `caddy did not start:\n${proc.stderr()}`);
  // Caddy logs everything as JSON on stderr; the access log is the http.log.access logger's lines.
  const lines = () =>
    proc
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"));
  return {
    name: "caddy",
    https: `https://127.0.0.1:${site.httpsPort}`,
    http: `http://127.0.0.1:${site.httpPort}`,
    httpsPort: site.httpsPort,
    host: "127.0.0.1",
    raw: (data, o) => rawTlsExchange(site.httpsPort, data, o),
    accessLog: () =>
      lines()
        .filter((l) => l.includes('"logger":"http.log.access'))
        .join("\n"),
    errorLog: () =>
      lines()
        .filter((l) => !l.includes('"logger":"http.log.access'))
        .join("\n"),
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

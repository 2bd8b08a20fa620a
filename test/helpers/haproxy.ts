// A real HAProxy for tests: the shipped deploy/haproxy/printerfacts.cfg with only its socket
// paths, ports, certificate and the workers' group templated, run as Debian's haproxy.service
// runs it (`haproxy -Ws`: a root master, workers as the haproxy user). Everything under a prefix.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningProxy, type ProxySite, rawTlsExchange, replaceExactly, waitForPort } from "./proxy.ts";
import { ROOT, SERVICE, start } from "./server.ts";

export const SHIPPED_CFG = join(ROOT, "deploy/haproxy/printerfacts.cfg");
const SHIPPED_SERVERS = [
  "server instance-1 /run/printerfacts-1/printerfacts.sock",
  "server instance-2 /run/printerfacts-2/printerfacts.sock",
];
const SHIPPED_CRT = "/etc/haproxy/certs/printerfacts.pem";

/**
 * The shipped config pointed at test sockets (one `server` line each), loopback ports and the test
 * certificate. The workers' group printerfacts becomes the group the test's service runs as
 * (this host has no printerfacts group), unless `group` names another.
 */
export function renderHaproxy(
  { sockets, httpPort, httpsPort, cert }: ProxySite,
  { group = SERVICE.group as string } = {},
): string {
  const r = (text: string, from: string, to: string) =>
    replaceExactly("deploy/haproxy/printerfacts.cfg", text, from, to);
  let cfg = readFileSync(SHIPPED_CFG, "utf8");
  const servers = (lines: string[]) => lines.map((line) => `    ${line}\n`).join("");
  cfg = r(cfg, servers(SHIPPED_SERVERS), servers(sockets.map((sock, i) => `server s${i} ${sock}`)));
  cfg = r(cfg, "    group printerfacts\n", `    group ${group}\n`);
  cfg = r(cfg, "    bind :80\n", `    bind 127.0.0.1:${httpPort}\n`);
  cfg = r(cfg, "    bind :::80 v6only\n", "");
  cfg = r(cfg, `    bind :443 ssl crt ${SHIPPED_CRT} `, `    bind 127.0.0.1:${httpsPort} ssl crt ${cert.combined} `);
  cfg = r(cfg, `    bind :::443 v6only ssl crt ${SHIPPED_CRT} alpn h2,http/1.1\n`, "");
  return cfg;
}

export interface HaproxyOptions {
  /** The `group` the workers run as (default: the service's group, as the shipped file says). */
  group?: string;
  /** argv in front of haproxy (e.g. setpriv to give the master supplementary groups). */
  wrapper?: string[];
}

/** `haproxy -c`: whether HAProxy accepts the rendered config, and what it said. */
export function haproxyCheck(path: string): { status: number | null; output: string } {
  const r = Bun.spawnSync(["haproxy", "-c", "-f", path]);
  return { status: r.exitCode, output: `${r.stdout}${r.stderr}` };
}

/** Render into `prefix`, check it, start HAProxy in the foreground and wait until it listens. */
export async function startHaproxy(prefix: string, site: ProxySite, opts: HaproxyOptions = {}): Promise<RunningProxy> {
  const cfgPath = join(prefix, "haproxy.cfg");
  writeFileSync(cfgPath, renderHaproxy(site, { group: opts.group }));
  const check = haproxyCheck(cfgPath);
  if (check.status !== 0) throw new Error(`haproxy -c refused ${cfgPath}:\n${check.output}`);
  // As haproxy.service's ExecStart (with the master CLI socket and pid file under the prefix).
  const proc = start([
    ...(opts.wrapper ?? []),
    "haproxy",
    "-Ws",
    "-f",
    cfgPath,
    "-p",
    join(prefix, "haproxy.pid"),
    "-S",
    join(prefix, "master.sock"),
  ]);
  await waitForPort(site.httpsPort, () => `haproxy did not start:\n${proc.stderr()}`);
  return {
    name: "haproxy",
    https: `https://127.0.0.1:${site.httpsPort}`,
    http: `http://127.0.0.1:${site.httpPort}`,
    httpsPort: site.httpsPort,
    host: "127.0.0.1",
    raw: (data, o) => rawTlsExchange(site.httpsPort, data, o),
    // `log stdout format raw`: the workers' access log is on stdout, the master's notices on stderr.
    accessLog: () => proc.stdout(),
    errorLog: () => proc.stderr(),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

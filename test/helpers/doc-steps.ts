// What the tests that run a page's shell blocks in the throwaway systemd host share: where the
// checkout and the certificate are, and how a block's output is held to the page's text block.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { BINARY, ROOT } from "./server.ts";
import { bootSystemdHost, type SystemdHost } from "./systemd-host.ts";

export const DOMAIN = "printerfacts.example.com";
/** The checkout, shown read-only in the host (SystemdHost.share). */
export const CHECKOUT = "/tmp/pf";
export const CERT_DIR = `/etc/letsencrypt/live/${DOMAIN}`;
/** curl trusts the self-signed certificate that stands in for certbot's. */
export const ENV = { CURL_CA_BUNDLE: `${CERT_DIR}/fullchain.pem` };

/** Whether `expected` lines appear in `output`'s lines in order; "…" matches anything. */
export function shows(output: string, expected: string[]): boolean {
  const lines = output.split("\n");
  let i = 0;
  for (const want of expected) {
    const re = new RegExp(
      `^${want
        .split("…")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    while (i < lines.length && !re.test(lines[i])) i++;
    if (i === lines.length) return false;
    i++;
  }
  return true;
}

/** A Debian host with this checkout's deploy/ and the binary, named as a release names it, in /tmp/pf. */
export async function debianHost(): Promise<SystemdHost> {
  const host = await bootSystemdHost();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) =>
      statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)],
    );
  for (const file of walk(join(ROOT, "deploy"))) {
    await host.copyIn(file, join(CHECKOUT, relative(ROOT, file)), statSync(file).mode & 0o777);
  }
  await host.copyIn(BINARY, join(CHECKOUT, `printerfacts-${pkg.version}-linux-x64`), 0o755);
  await host.ok(["bash", "-c", `echo '127.0.0.1 ${DOMAIN}' >> /etc/hosts`]);
  return host;
}

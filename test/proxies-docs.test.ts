// docs/proxies.md, run as written: every ```sh block, in order, as root in a checkout (/tmp/pf:
// deploy/ and the binary under its release name) on a throwaway Debian host with systemd as PID 1,
// so Debian's own haproxy.service and caddy.service run the shipped configs. A ```text block after
// a command block is what the page says the reader sees (its lines in order; "…" is anything).
// The same conventions as test/docs.test.ts. Only the certificate differs (the host has no
// Internet): certbot's line becomes a self-signed certificate in the same place, which curl is
// told to trust, and Caddy is given that certificate instead of asking an ACME CA for one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/server.ts";
import { CERT_DIR, CHECKOUT, DOMAIN, debianHost, ENV, shows } from "./helpers/doc-steps.ts";
import type { SystemdHost } from "./helpers/systemd-host.ts";

const PAGE = readFileSync(join(ROOT, "docs/proxies.md"), "utf8");

interface Step {
  shell: string;
  expect?: string[];
}

/** The ```sh blocks of one `## ` section of the page, each with the ```text block after it. */
function steps(section: string): Step[] {
  const start = PAGE.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`docs/proxies.md has no section "## ${section}"`);
  const rest = PAGE.slice(start + section.length + 5);
  const next = rest.search(/^## /m);
  const text = next < 0 ? rest : rest.slice(0, next);
  const out: Step[] = [];
  for (const m of text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    if (m[1] === "sh") out.push({ shell: m[2] });
    else if (m[1] === "text" && out.length > 0 && out[out.length - 1].expect === undefined)
      out[out.length - 1].expect = m[2].trimEnd().split("\n");
  }
  return out;
}

const SELF_SIGNED = `mkdir -p ${CERT_DIR} && [ -e ${CERT_DIR}/fullchain.pem ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=${DOMAIN} -addext subjectAltName=DNS:${DOMAIN} -keyout ${CERT_DIR}/privkey.pem -out ${CERT_DIR}/fullchain.pem 2>/dev/null`;

/** The certificate, made here instead of by certbot or Caddy's ACME client; nothing else is changed. */
function substituteCertificate(shell: string): string {
  return shell
    .split("\n")
    .map((line) => {
      if (/^apt-get install /.test(line)) return line.replace(/ certbot\b/, "");
      if (/^certbot certonly /.test(line)) {
        expect(line).toContain(`-d ${DOMAIN}`);
        return SELF_SIGNED;
      }
      // After the Caddyfile is in place: the same certificate, where the caddy user can read it.
      if (/> \/etc\/caddy\/Caddyfile$/.test(line)) {
        const dir = "/var/lib/caddy/test-certificate";
        return [
          line,
          SELF_SIGNED,
          `install -d -o caddy -g caddy ${dir} && install -o caddy -g caddy ${CERT_DIR}/fullchain.pem ${CERT_DIR}/privkey.pem ${dir}/`,
          `grep -q '^${DOMAIN} {$' /etc/caddy/Caddyfile && sed -i 's|^${DOMAIN} {$|&\\n\\ttls ${dir}/fullchain.pem ${dir}/privkey.pem|' /etc/caddy/Caddyfile`,
        ].join("\n");
      }
      return line;
    })
    .join("\n");
}

async function run(host: SystemdHost, step: Step): Promise<void> {
  const r = await host.sh(`cd ${CHECKOUT}\nset -eo pipefail\n${substituteCertificate(step.shell)}`, {
    env: ENV,
    timeoutMs: 120_000,
  });
  const output = r.stdout + r.stderr;
  const ok = r.status === 0 && (step.expect === undefined || shows(output, step.expect));
  if (!ok)
    expect(`${step.shell}\n--- exit ${r.status}, output:\n${output}`).toBe(
      `${step.shell}\n--- exit 0, output showing:\n${(step.expect ?? []).join("\n")}`,
    );
}

describe("docs/proxies.md on one Debian host: the service, then HAProxy, then Caddy", () => {
  let host: SystemdHost;
  beforeAll(async () => {
    host = await debianHost();
  }, 60_000);
  afterAll(() => host?.stop());

  const sections = { service: steps("The service: two instances"), haproxy: steps("HAProxy"), caddy: steps("Caddy") };
  test("each section has its commands", () => {
    expect([sections.service.length, sections.haproxy.length, sections.caddy.length]).toEqual([1, 3, 2]);
  });

  const named = (list: Step[]) => list.map((step, i) => [i + 1, step.shell.split("\n")[0], step] as const);
  test.each(named(sections.service))("service block %d: %s", async (_n, _first, step) => run(host, step), 120_000);

  test.each(named(sections.haproxy))("HAProxy block %d: %s", async (_n, _first, step) => run(host, step), 120_000);

  const workers = () =>
    host.ok(["bash", "-c", "ps -o user:20=,group:20=,supgrp:40= --ppid $(systemctl show -P MainPID haproxy)"]);
  const status = async () =>
    (
      await host.ok(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", `https://${DOMAIN}/fact`], { env: ENV })
    ).trim();

  test("HAProxy's workers run as haproxy with the group printerfacts, and nothing else", async () => {
    expect((await workers()).trim().split(/\s+/)).toEqual(["haproxy", "printerfacts", "-"]);
  });

  // What the page says about `group printerfacts`: HAProxy does not take the user's groups from
  // /etc/group (no initgroups), so the usual `adduser` does not let its workers in.
  test("with `group haproxy` and `adduser haproxy printerfacts` instead: no supplementary group, 503", async () => {
    const cfg = "/etc/haproxy/haproxy.cfg";
    await host.ok([
      "bash",
      "-c",
      `adduser --quiet haproxy printerfacts && cp ${cfg} /etc/haproxy/haproxy.cfg.saved && sed -i 's/^    group printerfacts$/    group haproxy/' ${cfg} && systemctl restart haproxy`,
    ]);
    expect((await workers()).trim().split(/\s+/)).toEqual(["haproxy", "haproxy", "-"]);
    expect(await status()).toBe("503");
    await host.ok([
      "bash",
      "-c",
      `gpasswd -d haproxy printerfacts && cp /etc/haproxy/haproxy.cfg.saved ${cfg} && systemctl restart haproxy`,
    ]);
    expect(await status()).toBe("200");
    // Ports 80 and 443 for the next proxy on the page.
    await host.ok(["systemctl", "disable", "--now", "haproxy"]);
  });

  test.each(named(sections.caddy))("Caddy block %d: %s", async (_n, _first, step) => run(host, step), 120_000);
});

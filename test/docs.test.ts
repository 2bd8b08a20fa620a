// Docs that cannot drift: every ```sh block of docs/deploy-debian.md, docs/prometheus.md and
// docs/alerts.md, and of the README's production quick start, runs as written, in order, as root
// in a checkout (here /tmp/pf: deploy/ and the binary under its release name) on a throwaway Debian host with systemd
// as PID 1 (test/helpers/systemd-host.ts). A ```text block after a command block is what the page
// says the reader sees: each of its lines must appear in the output, in order ("…" stands for
// anything). Only the certificate differs, since the host has no Internet: certbot's lines become
// a self-signed certificate in the same place, which curl is told to trust (CURL_CA_BUNDLE), and
// the domain resolves to the host's loopback.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/server.ts";
import { CERT_DIR, CHECKOUT, DOMAIN, debianHost, ENV, shows } from "./helpers/doc-steps.ts";
import type { SystemdHost } from "./helpers/systemd-host.ts";

interface Step {
  /** The block as the page has it. */
  shell: string;
  /** The lines of the ```text block after it, if any. */
  expect?: string[];
  /**
   * Which set-up it is for: a block under a "### Instances" heading is for install-debian.sh's
   * instances, the block just before that heading is the single printerfacts.service's, others both.
   */
  for: "service" | "instances" | "both";
}

/** The page's ```sh blocks (within `section`, a heading, if given), each with the ```text block after it. */
function steps(markdown: string, section?: string): Step[] {
  let text = markdown;
  if (section) {
    const start = text.indexOf(`\n${section}\n`);
    if (start < 0) throw new Error(`no section ${JSON.stringify(section)}`);
    const rest = text.slice(start + section.length + 2);
    const next = rest.search(/^#{1,2} /m);
    text = next < 0 ? rest : rest.slice(0, next);
  }
  const out: Step[] = [];
  let inInstances = false;
  for (const m of text.matchAll(/^```(\w*)\n([\s\S]*?)^```$|^(#{2,3}) (.*)$/gm)) {
    if (m[3] === "##") inInstances = false;
    else if (m[3] === "###" && m[4] === "Instances") {
      inInstances = true;
      if (out.length > 0 && out[out.length - 1].for === "both") out[out.length - 1].for = "service";
    } else if (m[1] === "sh") out.push({ shell: m[2], for: inInstances ? "instances" : "both" });
    else if (m[1] === "text" && out.length > 0 && out[out.length - 1].expect === undefined)
      out[out.length - 1].expect = m[2].trimEnd().split("\n");
  }
  return out;
}

/** The certificate, made here instead of by certbot (no Internet); nothing else is changed. */
function substituteCertificate(shell: string): string {
  return shell
    .split("\n")
    .map((line) => {
      if (/^apt-get install .*certbot/.test(line)) {
        const rest = line.replace(/ (python3-certbot-nginx|certbot)\b/g, "");
        return /^apt-get install -y$/.test(rest) ? ":" : rest;
      }
      if (/^certbot certonly /.test(line)) {
        if (!line.includes(`-d ${DOMAIN}`)) throw new Error(`certbot for another domain: ${line}`);
        return `mkdir -p ${CERT_DIR} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=${DOMAIN} -addext subjectAltName=DNS:${DOMAIN} -keyout ${CERT_DIR}/privkey.pem -out ${CERT_DIR}/fullchain.pem 2>/dev/null`;
      }
      return line;
    })
    .join("\n");
}

/** Runs one step as the reader would paste it (bash, stopping at the first failing command). */
async function run(host: SystemdHost, step: Step, retryMs = 0): Promise<string> {
  const script = `cd ${CHECKOUT}\nset -eo pipefail\n${substituteCertificate(step.shell)}`;
  const deadline = Date.now() + retryMs;
  for (;;) {
    const r = await host.sh(script, { env: ENV, timeoutMs: 120_000 });
    const output = r.stdout + r.stderr;
    const ok = r.status === 0 && (step.expect === undefined || shows(output, step.expect));
    if (ok) return output;
    if (Date.now() >= deadline) {
      throw new Error(
        `${step.shell}\n--- exit ${r.status}, output:\n${output}\n--- the page says: exit 0, output showing:\n${(step.expect ?? []).join("\n")}`,
      );
    }
    await Bun.sleep(1000);
  }
}

const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

type Item = readonly [name: string, run: (host: SystemdHost) => Promise<void>];

/**
 * Runs `items` in order on the host, starting now, so that the two hosts below work (and wait for
 * Prometheus's first scrape) at the same time; each test then awaits its own item. A failed item
 * fails every later one, as it would for a reader.
 */
function flow(boot: Promise<SystemdHost>, items: Item[]): Map<string, Promise<void>> {
  const results = new Map<string, Promise<void>>();
  let chain = boot;
  let failed: string | undefined;
  for (const [name, run] of items) {
    const done = chain.then(async (host) => {
      if (failed) throw new Error(`not run: an earlier step failed (${failed})`);
      try {
        await run(host);
      } catch (err) {
        failed = name;
        throw err;
      }
      return host;
    });
    const settled = done.then(() => undefined);
    settled.catch(() => {}); // awaited by its test; never an unhandled rejection meanwhile
    results.set(name, settled);
    chain = done.catch(() => boot);
  }
  return results;
}

const blockName = (page: string, i: number, step: Step) => `${page} block ${i + 1}: ${step.shell.split("\n")[0]}`;
/**
 * How long a step may be retried, as a reader would retry it: Prometheus needs a scrape or two,
 * and `systemctl reload nginx` returns before nginx has opened the new listener on 9464.
 */
const retryFor = (step: Step) =>
  step.shell.includes("/api/v1/") ? 40_000 : step.shell.includes("http://127.0.0.1:9464/") ? 5_000 : 0;

// The article's 502, on deploy-debian.md's own set-up: take the group away again, and `printerfacts
// check` predicts what nginx then does and prints the fix; run the fix exactly as printed.
async function the502(host: SystemdHost) {
  await host.ok(["bash", "-c", "gpasswd -d www-data printerfacts && systemctl restart nginx"]);
  const checkCmd = ["bash", "-c", "env $(systemctl show -P Environment printerfacts) printerfacts check"];
  const denied = await host.run(checkCmd);
  expect(denied.status).toBe(2);
  expect(denied.stdout).toContain(
    "no: www-data may not search /run/printerfacts (0750 printerfacts:printerfacts; www-data gets the other bits)",
  );
  // docs/check.md shows this very output.
  const sample = steps(read("docs/check.md"))[0].expect ?? [];
  expect(sample.length).toBeGreaterThan(5);
  expect(
    shows(denied.stdout, sample),
    `docs/check.md shows:\n${sample.join("\n")}\nbut check printed:\n${denied.stdout}`,
  ).toBe(true);
  const fix = denied.stdout.match(/^fix: (adduser \S+ \S+)\n {5}then (systemctl restart nginx) /m);
  expect(fix?.slice(1)).toEqual(["adduser www-data printerfacts", "systemctl restart nginx"]);
  const bad = await host.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", `https://${DOMAIN}/fact`], {
    env: ENV,
  });
  expect(bad.stdout).toBe("502");
  expect(await host.ok(["cat", "/var/log/nginx/error.log"])).toContain(
    "connect() to unix:/run/printerfacts/printerfacts.sock failed (13: Permission denied)",
  );

  await host.ok(["bash", "-c", `${fix?.[1]} && ${fix?.[2]}`]);
  expect((await host.run(checkCmd)).status).toBe(0);
  const good = await host.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", `https://${DOMAIN}/fact`], {
    env: ENV,
  });
  expect(good.stdout).toBe("200");
}

const deploy = steps(read("docs/deploy-debian.md"));
const quick = steps(read("README.md"), "## Production quick start (Debian)");
const prometheusPage = steps(read("docs/prometheus.md"));
const alertsPage = steps(read("docs/alerts.md"));
const THE_502 =
  "without the group: check says no and prints the fix, nginx answers 502 (13); the printed fix gives 200";
const BOTH_UP = "Prometheus has both instances up, each its own target";

const deployHost = debianHost();
const deployItems: Item[] = [
  ...deploy.map((step, i): Item => [blockName("deploy-debian.md", i, step), (host) => run(host, step).then(() => {})]),
  [THE_502, the502],
  ...prometheusPage
    .filter((step) => step.for !== "instances")
    .map(
      (step, i): Item => [
        blockName("prometheus.md", i, step),
        (host) => run(host, step, retryFor(step)).then(() => {}),
      ],
    ),
  ...alertsPage.map(
    (step, i): Item => [blockName("alerts.md", i, step), (host) => run(host, step, retryFor(step)).then(() => {})],
  ),
];
const quickHost = debianHost();
const quickItems: Item[] = [
  ...quick.map((step, i): Item => [blockName("README", i, step), (host) => run(host, step).then(() => {})]),
  ...prometheusPage
    .filter((step) => step.for !== "service")
    .map(
      (step, i): Item => [
        blockName("prometheus.md (instances)", i, step),
        (host) => run(host, step, retryFor(step)).then(() => {}),
      ],
    ),
  [
    "check.md's command for an instance: www-data can connect to printerfacts@1's socket, exit 0",
    async (host) => {
      const r = await host.run([
        "bash",
        "-c",
        "env $(systemctl show -P Environment printerfacts@1) printerfacts check",
      ]);
      expect(r.stdout).toContain(
        "yes: www-data can connect to /run/printerfacts-1/printerfacts.sock\nGET /healthz: 200 ok\n",
      );
      expect(r.status).toBe(0);
    },
  ],
  [
    BOTH_UP,
    async (host) => {
      const shell = `curl -s http://127.0.0.1:9090/api/v1/query --data-urlencode 'query=count(up{job="printerfacts"} == 1)'`;
      await run(
        host,
        {
          shell,
          expect: ['{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[…,"2"]}]}}'],
          for: "both",
        },
        40_000,
      );
    },
  ],
];
const results = new Map([...flow(deployHost, deployItems), ...flow(quickHost, quickItems)]);

afterAll(async () => {
  for (const host of [deployHost, quickHost]) await (await host.catch(() => undefined))?.stop();
});

test("the pages have their commands, each with what the reader sees where it matters", () => {
  expect(deploy.length).toBeGreaterThanOrEqual(8);
  expect(quick.length).toBeGreaterThanOrEqual(1);
  expect(prometheusPage.filter((step) => step.for === "service").length).toBeGreaterThanOrEqual(3);
  expect(prometheusPage.filter((step) => step.for === "instances").length).toBeGreaterThanOrEqual(3);
  expect(alertsPage.length).toBe(2);
});

describe("docs/deploy-debian.md, then docs/prometheus.md and docs/alerts.md, on one Debian host", () => {
  for (const [name] of deployItems) test(name, () => results.get(name), 180_000);
});

describe("README's production quick start, then docs/prometheus.md for its instances, on another", () => {
  for (const [name] of quickItems) test(name, () => results.get(name), 180_000);
});

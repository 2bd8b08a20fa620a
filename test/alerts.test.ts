// The Prometheus rules operators include as they are (deploy/prometheus/printerfacts.rules.yml):
// promtool accepts them and their unit tests pass (test/prometheus/rules.test.yml), every alert
// has its section in docs/alerts.md, and a real Prometheus, loading the file as shipped and
// scraping real printerfacts processes through nginx's metrics listener as docs/prometheus.md
// sets it up, fires and clears the alerts on /api/v1/alerts. Only the scrape and evaluation
// intervals are shorter here than Debian's 15 s; the rules' `for:` durations are the shipped ones.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mainConf, type Nginx, runNginx } from "./helpers/nginx.ts";
import { runtimeDir, startService } from "./helpers/proxy.ts";
import { BUN, fetchUnix, freePort, ROOT, type Running, start, tempDir } from "./helpers/server.ts";

const RULES = join(ROOT, "deploy/prometheus/printerfacts.rules.yml");
const RULES_TEST = join(ROOT, "test/prometheus/rules.test.yml");
const ALERTS_DOC = join(ROOT, "docs/alerts.md");

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (Bun.YAML.parse(readFileSync(RULES, "utf8")) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert !== undefined);

function promtool(...args: string[]) {
  const r = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

describe("the rules file", () => {
  test("promtool check rules accepts it", () => {
    const r = promtool("check", "rules", RULES);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  test("promtool test rules: each alert fires when it should, stays silent when it should not, and resolves", () => {
    const r = promtool("test", "rules", RULES_TEST);
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
    // Every alert is held there, firing at least once.
    const tested = readFileSync(RULES_TEST, "utf8");
    for (const { alert } of alerts) expect(tested).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n`));
  });

  test("the alerts the issue asks for are there", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      "PrinterfactsDown",
      "PrinterfactsErrorRatioHigh",
      "PrinterfactsFileDescriptorsNearLimit",
      "PrinterfactsInstanceDown",
      "PrinterfactsInstanceErrorRatioHigh",
      "PrinterfactsInstanceNotServing",
      "PrinterfactsLatencyHigh",
      "PrinterfactsLogLinesDropped",
      "PrinterfactsRestarting",
    ]);
    expect(rules.find((r) => r.alert === "PrinterfactsLogLinesDropped")?.expr).toContain(
      "instance_stream:printerfacts_log_lines_dropped:rate5m",
    );
    expect(rules.find((r) => r.record === "instance_stream:printerfacts_log_lines_dropped:rate5m")?.expr).toContain(
      "printerfacts_log_lines_dropped_total",
    );
  });

  test("recording rules are named level:metric:operations", () => {
    const records = rules.filter((r) => r.record !== undefined);
    expect(records.length).toBeGreaterThanOrEqual(10);
    for (const { record } of records) expect(record).toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });

  test("every alert has a section in docs/alerts.md, its runbook_url points at it, and it says where to look first", () => {
    const doc = readFileSync(ALERTS_DOC, "utf8");
    const sections = new Map(
      [...doc.matchAll(/^## (.+)\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)].map((m) => [anchor(m[1]), m[2]]),
    );
    for (const rule of alerts) {
      const name = rule.alert ?? "";
      const { summary, description, runbook_url } = rule.annotations ?? {};
      expect(summary, name).toBeString();
      expect(runbook_url, name).toBe(`docs/alerts.md#${anchor(name)}`);
      const section = sections.get(anchor(name));
      expect(section, `docs/alerts.md has no "## ${name}"`).toBeDefined();
      expect(section).toContain("**Means:**");
      expect(section).toContain("**Do:**");
      expect(description, name).toContain("journalctl -u 'printerfacts@*'");
      expect(description, name).toContain("printerfacts check");
      expect(["critical", "warning"]).toContain(rule.labels?.severity ?? "");
    }
  });
});

// ---- a real Prometheus ----

const dir = tempDir();
afterAll(() => dir.cleanup());
const running: Array<Running | Nginx> = [];
afterAll(async () => {
  for (const p of running) {
    if ("stop" in p) await p.stop();
    else p.kill("SIGKILL");
  }
});

/** The instances job of docs/prometheus.md, as the page appends it to prometheus.yml. */
function documentedJob(port: number): string {
  const page = readFileSync(join(ROOT, "docs/prometheus.md"), "utf8");
  const jobs = [...page.matchAll(/<<'YAML'\n([\s\S]*?)^YAML$/gm)].map((m) => m[1]);
  const job = jobs.find((j) => j.includes("__metrics_path__: /metrics/2"));
  if (!job) throw new Error("docs/prometheus.md no longer has the instances job");
  if (!job.includes("'127.0.0.1:9464'")) throw new Error("the documented job no longer targets 127.0.0.1:9464");
  return job.replaceAll("'127.0.0.1:9464'", `'127.0.0.1:${port}'`);
}

/** deploy/nginx/printerfacts-metrics.conf with its listener and socket paths moved under `base`. */
function metricsSite(base: string, port: number): string {
  const conf = readFileSync(join(ROOT, "deploy/nginx/printerfacts-metrics.conf"), "utf8");
  const swaps: [string, string][] = [
    ["listen 127.0.0.1:9464;", `listen 127.0.0.1:${port};`],
    ["unix:/run/printerfacts/metrics.sock", `unix:${base}/printerfacts/metrics.sock`],
    ["unix:/run/printerfacts-$1/metrics.sock", `unix:${base}/printerfacts-$1/metrics.sock`],
  ];
  return swaps.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`printerfacts-metrics.conf no longer contains ${from}`);
    return text.replaceAll(from, to);
  }, conf);
}

interface Alert {
  labels: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
}

describe("a real Prometheus on the shipped rules, scraping printerfacts through nginx's metrics listener", () => {
  test("an instance stopped: PrinterfactsInstanceDown fires after its 30 s and clears when it is back; one answering 5xx: both error-ratio alerts fire", async () => {
    // Instance 1 the binary; instance 2 the real app with a broken facts store (5xx).
    const sock1 = runtimeDir(dir.path, "1");
    const sock2 = runtimeDir(dir.path, "2");
    const metricsOf = (sock: string) => ({ METRICS_SOCKPATH: join(dirname(sock), "metrics.sock") });
    let one = await startService(sock1, metricsOf(sock1));
    running.push(one);
    const two = await startService(sock2, metricsOf(sock2), [BUN, join(ROOT, "test/fixtures/erroring-main.ts")]);
    running.push(two);

    const prefix = join(dir.path, "nginx");
    mkdirSync(prefix);
    const nginxPort = await freePort();
    const site = join(prefix, "printerfacts-metrics.conf");
    writeFileSync(site, metricsSite(dir.path, nginxPort));
    const confPath = join(prefix, "nginx.conf");
    mkdirSync(join(prefix, "temp"));
    writeFileSync(confPath, mainConf(prefix, site));
    running.push(await runNginx(prefix, confPath, nginxPort));

    const promPort = await freePort();
    const promDir = join(dir.path, "prometheus");
    mkdirSync(promDir);
    writeFileSync(
      join(promDir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${RULES}\nscrape_configs:\n${documentedJob(nginxPort)}`,
    );
    const prometheus = start([
      "prometheus",
      `--config.file=${join(promDir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(promDir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    running.push(prometheus);
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/${path}`);
      return ((await res.json()) as { data: unknown }).data;
    };
    const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}\nprometheus stderr: ${prometheus.stderr().slice(-3000)}`);
        await Bun.sleep(500);
      }
    };
    const activeAlerts = async () => ((await api("alerts")) as { alerts: Alert[] }).alerts;
    const firing = (list: Alert[], name: string, instance?: string) =>
      list.find(
        (a) =>
          a.labels.alertname === name &&
          a.state === "firing" &&
          (instance === undefined || a.labels.instance === instance),
      );

    // Both targets up, the shipped rules loaded, no alert active.
    await until(
      "both targets up",
      async () => {
        const up = (await api("query?query=sum(up%7Bjob%3D%22printerfacts%22%7D)")) as {
          result: { value: [number, string] }[];
        };
        return up.result[0]?.value[1] === "2" ? true : undefined;
      },
      20_000,
    );
    const loaded = (await api("rules")) as { groups: { name: string; file: string; rules: unknown[] }[] };
    const byName = (x: [string, ...unknown[]], y: [string, ...unknown[]]) => x[0].localeCompare(y[0]);
    expect(loaded.groups.map((g): [string, string, number] => [g.name, g.file, g.rules.length]).sort(byName)).toEqual(
      groups.map((g): [string, string, number] => [g.name, RULES, g.rules.length]).sort(byName),
    );
    // (PrinterfactsDown may be pending from an evaluation before the first scrape.)
    await until("no alert active", async () => ((await activeAlerts()).length === 0 ? true : undefined), 10_000);

    // Stop instance 1; send instance 2 requests it answers with 500.
    const stoppedAt = Date.now();
    one.kill("SIGTERM");
    expect(await one.exited).toBe(0);
    let load = true;
    const statuses = new Map<number, number>();
    const loop = (async () => {
      while (load) {
        for (const path of ["/facts/1", "/"]) {
          const res = await fetchUnix(sock2, path);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
        await Bun.sleep(50);
      }
    })();

    const seen = new Map<string, { alert: Alert; at: number }>();
    let sawAllDown = false;
    try {
      await until(
        "PrinterfactsInstanceDown, PrinterfactsInstanceErrorRatioHigh and PrinterfactsErrorRatioHigh firing",
        async () => {
          const list = await activeAlerts();
          if (list.some((a) => a.labels.alertname === "PrinterfactsDown")) sawAllDown = true;
          for (const [name, instance] of [
            ["PrinterfactsInstanceDown", "printerfacts@1"],
            ["PrinterfactsInstanceErrorRatioHigh", "printerfacts@2"],
            ["PrinterfactsErrorRatioHigh", undefined],
          ] as const) {
            const alert = firing(list, name, instance);
            if (alert && !seen.has(name)) seen.set(name, { alert, at: Date.now() });
          }
          return seen.size === 3 ? true : undefined;
        },
        // The longest `for:` here is 1 minute, on a 5-minute rate that needs two scrapes.
        100_000,
      );
    } finally {
      load = false;
      await loop;
    }
    expect(statuses.get(500)).toBeGreaterThan(100);
    expect([...statuses.keys()]).toEqual([500]);
    // Instance 2 kept answering its scrapes: not "every instance down".
    expect(sawAllDown).toBe(false);
    // Each fired no sooner than its shipped `for:` after it became active, which was after the stop.
    const forSeconds = (name: string) => {
      const f = alerts.find((a) => a.alert === name)?.for ?? "0s";
      return Number(f.slice(0, -1)) * (f.endsWith("m") ? 60 : 1);
    };
    for (const [name, { alert, at }] of seen) {
      const active = Date.parse(alert.activeAt);
      expect(active, name).toBeGreaterThanOrEqual(stoppedAt - 1000);
      expect(at - active, name).toBeGreaterThanOrEqual(forSeconds(name) * 1000);
    }
    expect(forSeconds("PrinterfactsInstanceDown")).toBe(30);
    expect(seen.get("PrinterfactsInstanceDown")?.alert.labels).toMatchObject({
      severity: "warning",
      job: "printerfacts",
    });
    expect(seen.get("PrinterfactsErrorRatioHigh")?.alert.labels).toMatchObject({ severity: "critical" });

    // Instance 1 back: its down alert is gone within a few scrapes.
    one = await startService(sock1, metricsOf(sock1));
    running.push(one);
    await until(
      "PrinterfactsInstanceDown gone",
      async () => {
        const list = await activeAlerts();
        return list.some((a) => a.labels.alertname === "PrinterfactsInstanceDown") ? undefined : true;
      },
      20_000,
    );
  }, 150_000);
});

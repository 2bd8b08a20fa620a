// The Prometheus rules operators include as they are (deploy/prometheus/printerfacts.rules.yml):
// promtool accepts them and their unit tests pass (test/prometheus/rules.test.yml), every alert
// has its section in docs/alerts.md, and a real Prometheus, loading the file as shipped and
// scraping real printerfacts processes through nginx's metrics listener as docs/prometheus.md
// sets it up, fires and clears the alerts on /api/v1/alerts. Only the scrape and evaluation
// intervals are shorter here than Debian's 15 s; the rules' `for:` durations are the shipped ones.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { mainConf, type Nginx, runNginx } from "./helpers/nginx.ts";
import { startInstance } from "./helpers/proxy.ts";
import { BUN, fetchUnix, freePort, ROOT, type Running, runtimeDir, SERVICE, start, tempDir } from "./helpers/server.ts";

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

/**
 * One of docs/prometheus.md's jobs, as the page appends it to prometheus.yml: printerfacts.service's
 * (one target, /metrics) or the instances' (a target per instance).
 */
function documentedJob(which: "service" | "instances", port: number): string {
  const page = readFileSync(join(ROOT, "docs/prometheus.md"), "utf8");
  const jobs = [...page.matchAll(/<<'YAML'\n([\s\S]*?)^YAML$/gm)].map((m) => m[1]);
  const job = jobs.find((j) => j.includes("__metrics_path__: /metrics/2") === (which === "instances"));
  if (!job) throw new Error(`docs/prometheus.md no longer has the ${which} job`);
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

/** Waits until `probe` gives a value, polling every half second; a failed probe (Prometheus not up yet) is "not yet". */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number) =>
  eventually(() => probe().catch(() => undefined), { what, timeoutMs, intervalMs: 500 });

/** A real Prometheus with the shipped rules file as it is and one of the documented jobs. */
async function startPrometheus(name: string, job: string) {
  const home = join(dir.path, name);
  mkdirSync(home);
  // Only the intervals differ from Debian's file (15 s), so the test waits seconds, not minutes.
  writeFileSync(
    join(home, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${RULES}\nscrape_configs:\n${job}`,
  );
  const port = await freePort();
  const proc = start([
    "prometheus",
    `--config.file=${join(home, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(home, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  running.push(proc);
  const api = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`);
    return ((await res.json()) as { data: unknown }).data;
  };
  const upTargets = async () => {
    const data = (await api(`query?query=${encodeURIComponent('sum(up{job="printerfacts"})')}`)) as {
      result: { value: [number, string] }[];
    };
    return Number(data.result[0]?.value[1] ?? 0);
  };
  return {
    proc,
    api,
    alerts: async () => ((await api("alerts")) as { alerts: Alert[] }).alerts,
    /** Until `count` targets are up and, after any evaluation before the first scrape, no alert is active. */
    ready: async (count: number) => {
      await until(
        `${name}: ${count} targets up`,
        async () => ((await upTargets()) === count ? true : undefined),
        20_000,
      );
      await until(
        `${name}: no alert active`,
        async () => (((await api("alerts")) as { alerts: Alert[] }).alerts.length === 0 ? true : undefined),
        10_000,
      );
    },
  };
}

describe("a real Prometheus on the shipped rules, scraping printerfacts through nginx's metrics listener", () => {
  test("stopped: PrinterfactsInstanceDown and PrinterfactsDown fire after their 30 s and clear when it is back; answering 5xx: both error-ratio alerts fire", async () => {
    // The two set-ups of docs/prometheus.md side by side, behind one nginx with the shipped
    // metrics site: printerfacts.service (one target, /metrics), watched by one Prometheus, and
    // instances printerfacts@1 and @2 (/metrics/N), watched by another. @2 is the real app with a
    // broken facts store (test/fixtures/erroring-main.ts): it answers 5xx.
    const single = join(dir.path, "printerfacts");
    mkdirSync(single, { mode: 0o750 });
    chownSync(single, SERVICE.uid, SERVICE.gid);
    const sockS = join(single, "printerfacts.sock");
    const sock1 = runtimeDir(dir.path, "1");
    const sock2 = runtimeDir(dir.path, "2");
    const withMetrics = (sock: string) => ({ METRICS_SOCKPATH: join(dirname(sock), "metrics.sock") });
    const serve = async (sock: string) => {
      const proc = await startInstance(sock, withMetrics(sock));
      running.push(proc);
      return proc;
    };
    const startSingle = () => serve(sockS);
    const startOne = () => serve(sock1);
    let [service, one] = await Promise.all([startSingle(), startOne()]);
    const two = await startInstance(sock2, withMetrics(sock2), [BUN, join(ROOT, "test/fixtures/erroring-main.ts")]);
    running.push(two);

    const prefix = join(dir.path, "nginx");
    mkdirSync(join(prefix, "temp"), { recursive: true });
    const nginxPort = await freePort();
    const site = join(prefix, "printerfacts-metrics.conf");
    writeFileSync(site, metricsSite(dir.path, nginxPort));
    const confPath = join(prefix, "nginx.conf");
    writeFileSync(confPath, mainConf(prefix, site));
    running.push(await runNginx(prefix, confPath, nginxPort));

    const forService = await startPrometheus("prometheus-service", documentedJob("service", nginxPort));
    const forInstances = await startPrometheus("prometheus-instances", documentedJob("instances", nginxPort));
    await Promise.all([forService.ready(1), forInstances.ready(2)]);
    const loaded = (await forInstances.api("rules")) as { groups: { name: string; file: string; rules: unknown[] }[] };
    const byName = (x: [string, ...unknown[]], y: [string, ...unknown[]]) => x[0].localeCompare(y[0]);
    expect(loaded.groups.map((g): [string, string, number] => [g.name, g.file, g.rules.length]).sort(byName)).toEqual(
      groups.map((g): [string, string, number] => [g.name, RULES, g.rules.length]).sort(byName),
    );

    // Stop printerfacts.service and printerfacts@1; send @2 requests it answers with 500.
    const stoppedAt = Date.now();
    service.kill("SIGTERM");
    one.kill("SIGTERM");
    expect([await service.exited, await one.exited]).toEqual([0, 0]);
    let load = true;
    const statuses = new Map<number, number>();
    const loop = (async () => {
      while (load) {
        for (const path of ["/facts/1", "/"]) {
          const res = await fetchUnix(sock2, path);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
        await Bun.sleep(50); // paces the load: about 20 pairs of requests a second
      }
    })();

    const expected = [
      [forService, "PrinterfactsDown", undefined],
      [forInstances, "PrinterfactsInstanceDown", "printerfacts@1"],
      [forInstances, "PrinterfactsInstanceErrorRatioHigh", "printerfacts@2"],
      [forInstances, "PrinterfactsErrorRatioHigh", undefined],
    ] as const;
    const seen = new Map<string, { alert: Alert; at: number }>();
    let allDownForInstances = false;
    try {
      await until(
        expected.map(([, name]) => name).join(", "),
        async () => {
          const lists = new Map([
            [forService, await forService.alerts()],
            [forInstances, await forInstances.alerts()],
          ]);
          // @2 keeps answering its scrapes: never "every instance down" for the instances.
          if (lists.get(forInstances)?.some((a) => a.labels.alertname === "PrinterfactsDown"))
            allDownForInstances = true;
          for (const [prometheus, name, instance] of expected) {
            const alert = lists
              .get(prometheus)
              ?.find(
                (a) =>
                  a.labels.alertname === name &&
                  a.state === "firing" &&
                  (instance === undefined || a.labels.instance === instance),
              );
            if (alert && !seen.has(name)) seen.set(name, { alert, at: Date.now() });
          }
          return seen.size === expected.length ? true : undefined;
        },
        // The longest `for:` here is 1 minute, on a 5-minute ratio that needs two scrapes.
        100_000,
      );
    } finally {
      load = false;
      await loop;
    }
    expect(statuses.get(500)).toBeGreaterThan(100);
    expect([...statuses.keys()]).toEqual([500]);
    expect(allDownForInstances).toBe(false);
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
    expect([forSeconds("PrinterfactsDown"), forSeconds("PrinterfactsInstanceDown")]).toEqual([30, 30]);
    expect(seen.get("PrinterfactsDown")?.alert.labels).toEqual({
      alertname: "PrinterfactsDown",
      job: "printerfacts",
      severity: "critical",
    });
    expect(seen.get("PrinterfactsInstanceDown")?.alert.labels).toMatchObject({
      severity: "warning",
      job: "printerfacts",
    });
    expect(seen.get("PrinterfactsErrorRatioHigh")?.alert.labels).toMatchObject({ severity: "critical" });

    // Both back: the down alerts are gone within a few scrapes.
    [service, one] = await Promise.all([startSingle(), startOne()]);
    const gone = (name: string) => async (list: Alert[]) =>
      list.some((a) => a.labels.alertname === name) ? undefined : true;
    await Promise.all([
      until("PrinterfactsDown gone", async () => gone("PrinterfactsDown")(await forService.alerts()), 20_000),
      until(
        "PrinterfactsInstanceDown gone",
        async () => gone("PrinterfactsInstanceDown")(await forInstances.alerts()),
        20_000,
      ),
    ]);
    expect(await forService.alerts()).toEqual([]);
  }, 150_000);
});

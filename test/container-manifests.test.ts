// deploy/kubernetes checked without a cluster: every manifest against the Kubernetes API schemas
// (strictly: no field the schema lacks), the pod's nginx config by the real nginx -t and against
// the shipped deploy/nginx/printerfacts.conf, and the shutdown ordering's arithmetic.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Doc, find, manifests, need } from "./helpers/kubernetes.ts";
import { validateManifest } from "./helpers/kubernetes-schema.ts";
import { SHIPPED_CONF } from "./helpers/nginx.ts";
import { BINARY, tempDir } from "./helpers/server.ts";

const pod: Doc = find("Deployment").spec.template.spec;
const container = (name: string): Doc =>
  need(
    pod.containers.find((c: Doc) => c.name === name),
    `container ${name}`,
  );
const env = (c: Doc): Record<string, string> => Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e.value]));
const nginxConf: string = find("ConfigMap").data["nginx.conf"];

/** Directive lines of an nginx config, comments and indentation dropped. */
const directives = (conf: string) =>
  conf
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
const seconds = (conf: string, directive: string) =>
  Number(
    need(
      directives(conf)
        .find((d) => d.startsWith(`${directive} `))
        ?.match(/ (\d+)s;$/)?.[1],
      directive,
    ),
  );

describe("deploy/kubernetes", () => {
  for (const { file, doc } of manifests()) {
    test(`${file}: ${doc.kind} is valid against the Kubernetes schema, with no unknown field`, () => {
      expect(validateManifest(doc)).toEqual([]);
    });
  }

  test("a misspelt field or a wrong type is caught", () => {
    const bad = structuredClone(find("Deployment"));
    bad.spec.template.spec.terminationGracePeriodSecond = 30;
    expect(validateManifest(bad)).toEqual(["/spec/template/spec/terminationGracePeriodSecond"]);
    bad.spec.replicas = "two";
    expect(() => validateManifest(bad)).toThrow(/replicas/);
  });

  test("the Service sends traffic to nginx's port, the pod's only one", () => {
    const service = find("Service");
    expect(service.spec.selector).toEqual(find("Deployment").spec.template.metadata.labels);
    expect(service.spec.ports.map((p: Doc) => p.targetPort)).toEqual(["http"]);
    expect(container("nginx").ports.map((p: Doc) => p.name)).toEqual(["http"]);
    expect(container("printerfacts").ports).toBeUndefined();
  });

  test("the pod's nginx config passes the real nginx -t", () => {
    const dir = tempDir();
    try {
      // Its absolute paths (/tmp, the socket) are the pod's; nginx -t only needs /tmp writable.
      const conf = join(dir.path, "nginx.conf");
      writeFileSync(conf, nginxConf);
      // stdout to /dev/null: nginx opens /dev/stdout for its access log, which a socket cannot be.
      const r = spawnSync("nginx", ["-t", "-e", "stderr", "-p", dir.path, "-c", conf], {
        encoding: "utf8",
        stdio: ["ignore", "ignore", "pipe"],
      });
      expect({ status: r.status, output: r.stderr }).toEqual({
        status: 0,
        output: expect.stringContaining("syntax is ok"),
      });
    } finally {
      dir.cleanup();
    }
  });

  test("its upstream and proxy settings are the shipped deploy/nginx/printerfacts.conf's", () => {
    const shipped = directives(readFileSync(SHIPPED_CONF, "utf8"));
    const pod = directives(nginxConf);
    // The pod's own differences: its socket path is the volume's, and TLS ended in front of it.
    const same = (d: string) =>
      /^(log_format |'|proxy_|client_|keepalive|server unix:|if \(\$request_method |return 501;)/.test(d) &&
      !/^proxy_set_header X-Forwarded-Proto|_temp_path /.test(d);
    expect(pod.filter(same)).toEqual(shipped.filter(same));
  });

  test("the socket: the path, mode and group printerfacts is given match the nginx upstream and users", () => {
    const pf = container("printerfacts");
    const nginx = container("nginx");
    expect(nginxConf).toContain(`server unix:${env(pf).SOCKPATH} `);
    expect(env(pf).SOCKMODE).toBe("0660");
    expect(String(nginx.securityContext.runAsGroup)).toBe(env(pf).SOCKGROUP);
    // fsGroup goes to every container in the pod: it must not be what opens the socket.
    expect(String(pod.securityContext.fsGroup)).not.toBe(env(pf).SOCKGROUP);
    expect(nginx.securityContext.runAsUser).not.toBe(pf.securityContext.runAsUser);
    const mount = (c: Doc) => c.volumeMounts.find((m: Doc) => m.name === "socket");
    expect(mount(pf)).toEqual(mount(nginx));
    expect(`${mount(pf).mountPath}/printerfacts.sock`).toBe(env(pf).SOCKPATH);
    // Not the emptyDir itself, which kubelet makes world-writable: the directory the init container
    // makes in it, of printerfacts' user and the socket's group (run: test/container.test.ts).
    const [init] = need(pod.initContainers, "initContainers");
    const made = `${init.volumeMounts.find((m: Doc) => m.name === "socket").mountPath}/${mount(pf).subPath}`;
    expect(init.command.at(-1)).toBe(`mkdir -p ${made} && chgrp ${env(pf).SOCKGROUP} ${made} && chmod 2750 ${made}`);
    expect(init.securityContext.runAsUser).toBe(pf.securityContext.runAsUser);
  });

  test("no service links: a Service named metrics would set METRICS_PORT=tcp://..., which printerfacts refuses", () => {
    expect(pod.enableServiceLinks).toBe(false);
    const r = spawnSync(BINARY, [], {
      env: { ...env(container("printerfacts")), METRICS_PORT: "tcp://10.0.0.11:80" },
      encoding: "utf8",
      timeout: 10_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 78,
      stderr: expect.stringContaining('METRICS_PORT="tcp://10.0.0.11:80"'),
    });
  });

  test("a rolling update loses no request: nginx drains before printerfacts stops, all within the grace period", () => {
    const nginxStop = need(container("nginx").lifecycle?.preStop?.sleep?.seconds, "nginx's preStop sleep");
    const pfStop = need(container("printerfacts").lifecycle?.preStop?.sleep?.seconds, "printerfacts' preStop sleep");
    const shutdown = Number(env(container("printerfacts")).SHUTDOWN_TIMEOUT);
    // nginx may hold a request for up to proxy_read_timeout after its own stop signal.
    expect(pfStop).toBeGreaterThanOrEqual(nginxStop + seconds(nginxConf, "proxy_read_timeout"));
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pfStop + shutdown);
    expect(find("Deployment").spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test("printerfacts' liveness probe is the image's HEALTHCHECK command; readiness is through nginx", () => {
    const healthcheck = readFileSync(join(import.meta.dir, "../deploy/container/Containerfile"), "utf8").match(
      /^HEALTHCHECK .* CMD (\[.*\])$/m,
    );
    const command = JSON.parse(need(healthcheck?.[1], "the Containerfile's HEALTHCHECK"));
    expect(command).toEqual(["/printerfacts", "check"]);
    expect(container("printerfacts").livenessProbe.exec.command).toEqual(command);
    // Readiness goes through nginx to /healthz: both containers and the socket between them.
    expect(container("nginx").readinessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
  });
});

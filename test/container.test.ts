// The image and the Kubernetes pod, run for real with podman: the image built by scripts/image.ts
// from a local stand-in for its distroless base (no registry is reachable here), nginx from the
// host's own binary, and both containers started with exactly the users, groups, environment,
// volumes and command that deploy/kubernetes/deployment.yaml gives them, sharing the socket
// volume and one loopback-only network namespace, as a pod's containers do.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./helpers/eventually.ts";
import { type Doc, find, need } from "./helpers/kubernetes.ts";
import { importRootfs, type Podman, podman } from "./helpers/podman.ts";
import { BINARY, BUN, ROOT } from "./helpers/server.ts";

const BASE = "localhost/printerfacts-test-base:latest";
const IMAGE = "localhost/printerfacts:test";
const NGINX = "localhost/printerfacts-test-nginx:latest";

const deployment = find("Deployment");
const pod: Doc = deployment.spec.template.spec;
/** Where the containers' /run/printerfacts is on this side: the socket volume's subPath. */
let SOCKET_DIR = "";
const container = (name: string): Doc =>
  need(
    pod.containers.find((c: Doc) => c.name === name),
    `container ${name}`,
  );
const fsGroup: number = need(pod.securityContext?.fsGroup, "fsGroup");

let pm: Podman;
let netnsPid = "";

/**
 * Volumes as kubelet makes them: an emptyDir is a 0777 directory that fsGroup then owns with
 * group rw and setgid added (2777 root:fsGroup); a configMap's keys are 0644 files.
 */
function volumeDirs(): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const volume of pod.volumes) {
    const dir = join(pm.dir, "volumes", volume.name);
    mkdirSync(dir, { recursive: true });
    if (volume.emptyDir) {
      chownSync(dir, 0, fsGroup);
      chmodSync(dir, 0o2777);
    } else if (volume.configMap) {
      const map = find("ConfigMap");
      expect(map.metadata.name).toBe(volume.configMap.name);
      for (const [key, text] of Object.entries(map.data))
        writeFileSync(join(dir, key), text as string, { mode: 0o644 });
    } else {
      throw new Error(`volume ${volume.name}: only emptyDir and configMap are emulated here`);
    }
    dirs.set(volume.name, dir);
  }
  return dirs;
}

/** `podman run` options for a container of the manifest: its user, groups, env, mounts, command. */
function runOptions(c: Doc, volumes: Map<string, string>): string[] {
  const sc = need(c.securityContext, `${c.name}'s securityContext`);
  const args = [
    "--user",
    `${need(sc.runAsUser, `${c.name}'s runAsUser`)}:${need(sc.runAsGroup, `${c.name}'s runAsGroup`)}`,
  ];
  // Kubernetes adds fsGroup to every container's supplementary groups.
  args.push("--group-add", String(fsGroup));
  if (sc.readOnlyRootFilesystem) args.push("--read-only", "--read-only-tmpfs=false");
  if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  if (sc.capabilities?.drop?.includes("ALL")) args.push("--cap-drop", "ALL");
  for (const { name, value } of c.env ?? []) args.push("--env", `${name}=${value}`);
  for (const m of c.volumeMounts ?? []) {
    const source = join(need(volumes.get(m.name), `volume ${m.name}`), m.subPath ?? "");
    args.push("--volume", `${source}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
  }
  // Kubernetes' command replaces the image's ENTRYPOINT, as podman's --entrypoint does.
  if (c.command) args.push("--entrypoint", JSON.stringify(c.command));
  return args;
}

/** curl inside the pod's network namespace, which has nothing but loopback. */
function curlInPod(path: string): { status: number; body: string } {
  const r = spawnSync(
    "nsenter",
    [
      `--net=/proc/${netnsPid}/ns/net`,
      "curl",
      "-sS",
      "-m",
      "5",
      "-w",
      "\n%{http_code}",
      `http://127.0.0.1:8080${path}`,
    ],
    { encoding: "utf8" },
  );
  const lines = r.stdout.split("\n");
  return { status: Number(lines.pop()), body: lines.join("\n") };
}

beforeAll(() => {
  const t0 = performance.now();
  pm = podman();
  // distroless/cc: glibc and the nonroot user, nothing to run but what the image adds.
  importRootfs(pm, BASE, { librariesOf: [BINARY], changes: ["USER=65532:65532"] });
  // The official nginx image stops with SIGQUIT (graceful); the manifest's ordering relies on it.
  // With the shell tools the init container runs, as the official image has them.
  importRootfs(pm, NGINX, {
    files: ["/usr/sbin/nginx", "/usr/bin/sh", "/usr/bin/mkdir", "/usr/bin/chgrp", "/usr/bin/chmod"],
    changes: ["ENV=PATH=/usr/sbin:/usr/bin", "STOPSIGNAL=SIGQUIT"],
  });
  const build = spawnSync(BUN, [join(ROOT, "scripts/image.ts")], {
    env: { ...process.env, ...pm.env, IMAGE_BASE: BASE, IMAGE_TAG: IMAGE },
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`scripts/image.ts failed:\n${build.stdout}${build.stderr}`);

  const volumes = volumeDirs();
  // Init containers first, each to its end, as kubelet runs them; the manifest's image is nginx's.
  for (const init of pod.initContainers ?? []) {
    expect(init.image).toBe(container("nginx").image);
    pm.ok(["run", "--rm", "--network", "none", ...runOptions(init, volumes), NGINX]);
  }
  const pf = container("printerfacts");
  const nginx = container("nginx");
  // The pod's one network namespace is printerfacts' (no network: loopback only); nginx joins it.
  pm.ok([
    "run",
    "--detach",
    "--name",
    "printerfacts",
    "--network",
    "none",
    "--health-interval",
    "disable",
    ...runOptions(pf, volumes),
    IMAGE,
  ]);
  pm.ok([
    "run",
    "--detach",
    "--name",
    "nginx",
    "--network",
    "container:printerfacts",
    ...runOptions(nginx, volumes),
    NGINX,
  ]);
  netnsPid = pm.ok(["inspect", "--format", "{{.State.Pid}}", "printerfacts"]).trim();
  SOCKET_DIR = join(
    need(volumes.get("socket"), "volume socket"),
    pf.volumeMounts.find((m: Doc) => m.name === "socket").subPath ?? "",
  );
  console.log(`container test setup: ${Math.round(performance.now() - t0)} ms`);
}, 120_000);

afterAll(() => pm?.cleanup());

/** `printerfacts check` in a container of the pod, as `user` (uid:gid) with the pod's fsGroup. */
const checkInPod = (user: string) =>
  pm.run([
    "run",
    "--rm",
    "--network",
    "none",
    "--user",
    user,
    "--group-add",
    String(fsGroup),
    "--volume",
    `${SOCKET_DIR}:/run/printerfacts`,
    IMAGE,
    "check",
  ]);

describe("the printerfacts pod, run with podman as deploy/kubernetes gives it", () => {
  test("a request through nginx's port reaches printerfacts over the shared socket: 200", async () => {
    let r = curlInPod("/healthz");
    const ok = () => {
      r = curlInPod("/healthz");
      return r.status === 200;
    };
    await eventually(() => r.status === 200 || ok(), {
      what: () => `a 200 from /healthz through nginx's port; last: ${JSON.stringify(r)}`,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(r.status).toBe(200);
    const fact = curlInPod("/fact");
    expect(fact.status).toBe(200);
    expect(fact.body.length).toBeGreaterThan(0);
    // nginx keeps /metrics from the public.
    expect(curlInPod("/metrics").status).toBe(404);
  });

  test("both containers log to stdout, one request id in nginx's line and printerfacts' JSON line", async () => {
    expect(curlInPod("/fact").status).toBe(200);
    // Each log is written when its buffer is flushed: wait for both lines.
    let id: string | undefined;
    const line = await eventually(
      () => {
        id = pm.ok(["logs", "nginx"]).match(/"GET \/fact HTTP\/1.1" 200 .* request_id=(\w+) upstream=unix:/)?.[1];
        return (
          id &&
          pm
            .ok(["logs", "printerfacts"])
            .split("\n")
            .find((l) => l.includes(`"request_id":"${id}"`))
        );
      },
      {
        what: () =>
          id ? `printerfacts' access line with request_id ${id}` : "nginx's access line for /fact with a request id",
        intervalMs: 100,
      },
    );
    expect(JSON.parse(line)).toMatchObject({
      method: "GET",
      path: "/fact",
      status: 200,
    });
  });

  test("the socket is the manifest's: 0660, owned by printerfacts' user and the socket group", () => {
    const pf = container("printerfacts");
    const env = Object.fromEntries(pf.env.map((e: Doc) => [e.name, e.value]));
    const out = pm.ok(["exec", "printerfacts", "/printerfacts", "--version"]);
    expect(out).toContain("printerfacts");
    const stat = spawnSync("stat", ["-c", "%a %u %g", join(SOCKET_DIR, "printerfacts.sock")], {
      encoding: "utf8",
    });
    expect(stat.stdout.trim()).toBe(
      `${Number.parseInt(env.SOCKMODE, 8).toString(8)} ${pf.securityContext.runAsUser} ${env.SOCKGROUP}`,
    );
    // nginx gets there through its primary group, the socket's.
    expect(String(container("nginx").securityContext.runAsGroup)).toBe(env.SOCKGROUP);
  });

  test("/run/printerfacts is no emptyDir's world-writable directory: 2750, printerfacts' own; no warning at start", () => {
    const pf = container("printerfacts").securityContext;
    const group = container("printerfacts").env.find((e: Doc) => e.name === "SOCKGROUP").value;
    const st = statSync(SOCKET_DIR);
    expect([(st.mode & 0o7777).toString(8), st.uid, st.gid]).toEqual(["2750", pf.runAsUser, Number(group)]);
    const log = pm.ok(["logs", "printerfacts"]).concat(pm.run(["logs", "printerfacts"]).stderr);
    expect(log).toContain("listening on unix:/run/printerfacts/printerfacts.sock");
    expect(log).not.toContain("warn");
  });

  test("`printerfacts check` as nginx's user and group reaches the socket", () => {
    const nginx = container("nginx").securityContext;
    const r = checkInPod(`${nginx.runAsUser}:${nginx.runAsGroup}`);
    expect({ status: r.status, stdout: r.stdout }).toEqual({
      status: 0,
      stdout: expect.stringContaining(`yes: ${nginx.runAsUser} can connect to /run/printerfacts/printerfacts.sock`),
    });
    expect(r.stdout).toContain("GET /healthz: 200");
  });

  test("a third container, another user in the same pod (so with fsGroup), cannot connect", () => {
    const r = checkInPod("10003:10003");
    // Exit 2: the permission bits say no, and the real connect() agrees.
    expect({ status: r.status, stdout: r.stdout }).toEqual({
      status: 2,
      stdout: expect.stringContaining("no: 10003 may not search /run/printerfacts (2750 10001:10001;"),
    });
    expect(r.stdout).toContain("GET /healthz: could not connect: EACCES");
    // Numeric ids with no names: the fix is the container's group list, not adduser.
    const group = container("printerfacts").env.find((e: Doc) => e.name === "SOCKGROUP").value;
    expect(r.stdout).toContain(
      `fix: give 10003 the supplementary group ${group} (podman or docker: --group-add ${group};`,
    );
  });

  test("the image's HEALTHCHECK is `printerfacts check`, the manifest's probe, and reports healthy", () => {
    const [image] = JSON.parse(pm.ok(["image", "inspect", IMAGE]));
    expect(image.Healthcheck.Test).toEqual(["CMD", ...container("printerfacts").livenessProbe.exec.command]);
    expect(image.Config.User).toBe("65532:65532");
    const r = pm.run(["healthcheck", "run", "printerfacts"]);
    // Podman (4.3) prints nothing when the check passes.
    expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: "" });
  });

  // Last: it stops the pod. Each container gets its image's stop signal, as Kubernetes sends it.
  test("stopping: nginx quits gracefully on its SIGQUIT, then printerfacts removes its socket on SIGTERM", () => {
    pm.ok(["stop", "--time", "10", "nginx"]);
    expect(pm.ok(["inspect", "--format", "{{.State.ExitCode}}", "nginx"]).trim()).toBe("0");
    expect(pm.ok(["logs", "nginx"]).concat(pm.run(["logs", "nginx"]).stderr)).not.toContain("[emerg]");
    pm.ok(["stop", "--time", "10", "printerfacts"]);
    expect(pm.ok(["inspect", "--format", "{{.State.ExitCode}}", "printerfacts"]).trim()).toBe("0");
    expect(existsSync(join(SOCKET_DIR, "printerfacts.sock"))).toBe(false);
  });
});

test("the image alone, as its own user with an anonymous volume at /run/printerfacts, serves and reports healthy", async () => {
  pm.ok(["run", "--detach", "--name", "alone", "--network", "none", "--health-interval", "disable", IMAGE]);
  let r = pm.run(["exec", "alone", "/printerfacts", "check"]);
  const passes = () => {
    r = pm.run(["exec", "alone", "/printerfacts", "check"]);
    return r.status === 0;
  };
  await eventually(() => r.status === 0 || passes(), {
    what: () => `printerfacts check to pass in the container; last: ${r.status} ${r.stdout}${r.stderr}`,
    intervalMs: 100,
  });
  expect({ status: r.status, stdout: r.stdout }).toEqual({
    status: 0,
    stdout: expect.stringContaining("GET /healthz: 200"),
  });
  expect(r.stdout).toMatch(/\/run\/printerfacts +0755 65532:65532/);
});

test("npm run image says so in one line when neither podman nor docker is installed", () => {
  const empty = join(pm.dir, "empty-path");
  mkdirSync(empty);
  const r = spawnSync(BUN, [join(ROOT, "scripts/image.ts")], { env: { PATH: empty }, encoding: "utf8" });
  expect({ status: r.status, stderr: r.stderr }).toEqual({
    status: 1,
    stderr:
      "image: neither podman nor docker is on PATH; install one (Debian: apt-get install podman) or set CONTAINER_ENGINE\n",
  });
});

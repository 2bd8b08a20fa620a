// Real podman for the container tests, everything under one temp dir: images, containers, its
// runtime state and build files, so parallel runs never meet and nothing is left behind. runc
// with cgroupfs, since crun refuses this machine's cgroup layout; no default ulimits, which the
// kernel here does not allow raising. No registry is reachable: images are built from local files.
// Outside the temp dir podman as root still touches runc's state (/run/runc/ID, removed with the
// container) and its blob info cache, /var/lib/containers/cache, which no setting moves.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Podman {
  dir: string;
  /** The environment podman (and scripts calling it) must run with to use this storage. */
  env: Record<string, string>;
  run(args: string[], input?: Buffer): Result;
  /** Like run, but throws with podman's stderr on a non-zero exit. */
  ok(args: string[], input?: Buffer): string;
  cleanup(): void;
}

export function podman(): Podman {
  const dir = mkdtempSync(join(tmpdir(), "pf-podman-"));
  const conf = join(dir, "containers.conf");
  const storage = join(dir, "storage.conf");
  writeFileSync(
    conf,
    `[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
tmp_dir = "${dir}/libpod"
`,
  );
  // skip_mount_home: no bind mount of the storage onto itself, which would outlive the test.
  writeFileSync(
    storage,
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/graph"\nrunroot = "${dir}/run"\n[storage.options.overlay]\nskip_mount_home = "true"\n`,
  );
  mkdirSync(join(dir, "tmp"));
  const env = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, TMPDIR: join(dir, "tmp") };
  const run = (args: string[], input?: Buffer): Result => {
    // A hung podman fails its test instead of the whole run.
    const r = spawnSync("podman", args, {
      env: { ...process.env, ...env },
      input,
      encoding: "utf8",
      maxBuffer: 64 << 20,
      timeout: 60_000,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    dir,
    env,
    run,
    ok(args, input) {
      const r = run(args, input);
      if (r.status !== 0) throw new Error(`podman ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
      return r.stdout;
    },
    cleanup() {
      // A container that shares another's network namespace must go first: two rounds.
      for (let round = 0; round < 3 && run(["ps", "--all", "--quiet"]).stdout.trim() !== ""; round++) {
        run(["rm", "--all", "--force", "--time", "0"]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The shared libraries `ldd` says an executable loads, the dynamic loader included. */
export function sharedLibraries(executable: string): string[] {
  const r = spawnSync("ldd", [executable], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ldd ${executable} failed: ${r.stderr}`);
  return [...r.stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
}

/**
 * A root filesystem of just `files` and the libraries `librariesOf` load, with /etc/passwd,
 * /etc/group and /tmp, imported as an image: a stand-in for a distroless base, with no shell.
 */
export function importRootfs(
  pm: Podman,
  name: string,
  { files = [], librariesOf = files, changes = [] }: { files?: string[]; librariesOf?: string[]; changes?: string[] },
): void {
  const root = join(pm.dir, `rootfs-${name.replace(/\W/g, "-")}`);
  for (const file of new Set([...files, ...librariesOf.flatMap(sharedLibraries)])) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    copyFileSync(file, join(root, file));
  }
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(
    join(root, "etc/passwd"),
    "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
  );
  writeFileSync(join(root, "etc/group"), "root:x:0:\nnonroot:x:65532:\n");
  mkdirSync(join(root, "tmp"));
  chmodSync(join(root, "tmp"), 0o1777);
  const tar = spawnSync("tar", ["-C", root, "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."], {
    maxBuffer: 1 << 30,
  });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  pm.ok(["import", ...changes.flatMap((c) => ["--change", c]), "-", name], tar.stdout);
  rmSync(root, { recursive: true, force: true });
}

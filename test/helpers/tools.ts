// The real tools the suite drives, and the Debian package each comes from. test/setup.ts checks
// them all before any test runs: a missing one stops the run with one line, never a skip or a
// stack trace deep inside a helper. A test that starts using a new tool adds it here (and to
// .ci/run's apt-get list).
import { existsSync } from "node:fs";

/** A command looked up on PATH, or an absolute path that must exist; and its Debian package. */
export const TOOLS: ReadonlyArray<readonly [tool: string, debianPackage: string]> = [
  ["curl", "curl"],
  ["setpriv", "util-linux"],
  ["prlimit", "util-linux"],
  ["strace", "strace"],
  ["node", "nodejs"],
  ["npm", "npm"],
  ["sha256sum", "coreutils"],
  ["mkfifo", "coreutils"],
  ["git", "git"],
  ["getent", "libc-bin"],
  ["systemd-socket-activate", "systemd"],
  ["systemd-analyze", "systemd"],
  ["systemd-sysusers", "systemd"],
  ["/lib/systemd/systemd", "systemd"],
  ["unshare", "util-linux"],
  ["nsenter", "util-linux"],
  ["findmnt", "util-linux"],
  ["mount", "mount"],
  ["ip", "iproute2"],
  ["dbus-daemon", "dbus"],
  // nginx first of the sbin tools: test/preflight.test.ts takes /usr/sbin off PATH and expects it.
  ["nginx", "nginx"],
  ["ps", "procps"],
  ["adduser", "adduser"],
  ["gpasswd", "passwd"],
  ["openssl", "openssl"],
  ["promtool", "prometheus"],
  ["prometheus", "prometheus"],
  ["nix-instantiate", "nix-bin"],
  ["/usr/bin/chromium", "chromium"],
  ["qemu-x86_64-static", "qemu-user-static"],
  ["qemu-aarch64-static", "qemu-user-static"],
  ["/lib/ld-linux-aarch64.so.1", "libc6:arm64"],
  ["haproxy", "haproxy"],
  ["caddy", "caddy"],
  ["ab", "apache2-utils"],
  ["wrk", "wrk"],
  ["podman", "podman"],
  ["runc", "runc"],
  ["ldd", "libc-bin"],
];

/** The first tool that is missing, as the one line that says what to install; undefined if none. */
export function missingTool(path = process.env.PATH ?? ""): string | undefined {
  for (const [tool, pkg] of TOOLS) {
    const found = tool.startsWith("/") ? existsSync(tool) : Bun.which(tool, { PATH: path }) !== null;
    if (!found) {
      const arch = pkg.split(":")[1];
      const install = `${arch ? `dpkg --add-architecture ${arch} && apt-get update && ` : ""}apt-get install ${pkg}`;
      return `test tool missing: ${tool} (Debian package ${pkg}: ${install}); the suite needs the real thing and does not skip`;
    }
  }
  return undefined;
}

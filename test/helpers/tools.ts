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
  ["getent", "libc-bin"],
  ["systemd-socket-activate", "systemd"],
  ["systemd-analyze", "systemd"],
  ["systemd-sysusers", "systemd"],
  ["/lib/systemd/systemd", "systemd"],
  ["nginx", "nginx"],
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
  ["podman", "podman"],
  ["runc", "runc"],
  ["nsenter", "util-linux"],
  ["ldd", "libc-bin"],
];

/** The first tool that is missing, as the one line that says what to install; undefined if none. */
export function missingTool(path = process.env.PATH ?? ""): string | undefined {
  for (const [tool, pkg] of TOOLS) {
    const found = tool.startsWith("/") ? existsSync(tool) : Bun.which(tool, { PATH: path }) !== null;
    if (!found) return `test tool missing: ${tool} (Debian package ${pkg}: apt-get install ${pkg.replace(/:.*/, "")}${pkg.includes(":") ? ` after dpkg --add-architecture ${pkg.split(":")[1]}` : ""}); the suite needs the real thing and does not skip`;
  }
  return undefined;
}

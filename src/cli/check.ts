// `printerfacts check [USER]`: the article's 502 "(13: Permission denied)", explained before it
// happens. With the service's environment, it says whether USER (default: the user nginx's workers
// run as) may connect to SOCKPATH, walking every directory on the way with USER's groups from
// NSS; names the first obstacle and the command that removes it; then asks /healthz itself, so it
// doubles as a health probe where there is no HTTP client. Exit codes: CHECK_EXIT below.
import { existsSync, lstatSync, readFileSync, type Stats, statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, loadConfig } from "../config.ts";
import type { ListenTarget } from "../types.ts";
import { EXIT } from "./exit.ts";

/** What `printerfacts check` exits with, of EXIT's codes (docs/check.md lists exactly these). */
export const CHECK_EXIT = [EXIT.ok, EXIT.failed, EXIT.denied, EXIT.usage, EXIT.noUser, EXIT.noPerm, EXIT.config];

const NGINX_CONF = "/etc/nginx/nginx.conf";

interface Who {
  name: string;
  uid: number;
  gids: number[];
}

type Out = (line: string) => void;

/** NSS through getent(1), for one run of check. */
interface Names {
  getent(database: string, key: string): string | undefined;
  group(gid: number): string;
  user(uid: number): string;
  /** Set when there is no getent to ask (a minimal container): then only the current user can be checked. */
  missing: boolean;
}

// node:child_process and node:net are loaded by check() itself: the service never loads them for
// this subcommand's sake (test/startup.test.ts).
function namesVia(execFileSync: typeof import("node:child_process").execFileSync): Names {
  const names: Names = {
    missing: false,
    getent(database, key) {
      try {
        return execFileSync("getent", [database, key], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
          env: {},
        }).trim();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") names.missing = true;
        return undefined;
      }
    },
    group: (gid) => names.getent("group", String(gid))?.split(":")[0] ?? String(gid),
    user: (uid) => names.getent("passwd", String(uid))?.split(":")[0] ?? String(uid),
  };
  return names;
}

/** The user nginx's workers run as: its `user` directive, nginx's default nobody, or, without nginx, us. */
function defaultUser(names: Names, conf = NGINX_CONF): { name: string; why: string } {
  if (!existsSync(conf))
    return { name: names.user(process.getuid?.() ?? 0), why: `no ${conf}: the user running this check` };
  const text = readFileSync(conf, "utf8").replace(/#.*$/gm, "");
  const m = text.match(/^\s*user\s+([^\s;]+)/m);
  if (m) return { name: m[1], why: `nginx's workers, from "user" in ${conf}` };
  return { name: "nobody", why: `nginx's workers: ${conf} has no "user" directive, so nginx's default` };
}

/** USER's uid and every group NSS gives it (its passwd group and `getent initgroups`), as initgroups(3) would. */
function lookUp(names: Names, name: string): Who | undefined {
  if (process.getuid && name === names.user(process.getuid())) {
    const gids = new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])]);
    return { name, uid: process.getuid(), gids: [...gids] };
  }
  const passwd = names.getent("passwd", name)?.split(":");
  if (!passwd || passwd.length < 4) return undefined;
  const user = passwd[0];
  const extra = names.getent("initgroups", user)?.split(/\s+/).slice(1).filter(Boolean).map(Number) ?? [];
  return { name: user, uid: Number(passwd[2]), gids: [...new Set([Number(passwd[3]), ...extra])] };
}

/** Whether `who` has `bit` (1 search, 2 write) on a file, by Linux's rule: owner bits, else group, else other. */
function permits(st: Stats, who: Who, bit: 1 | 2, names: Names): { ok: boolean; as: string } {
  if (who.uid === 0) return { ok: true, as: "root" };
  if (st.uid === who.uid) return { ok: ((st.mode >> 6) & bit) !== 0, as: "owner" };
  if (who.gids.includes(st.gid)) return { ok: ((st.mode >> 3) & bit) !== 0, as: `group ${names.group(st.gid)}` };
  return { ok: (st.mode & bit) !== 0, as: "other" };
}

const modeAndOwner = (st: Stats, names: Names) =>
  `${(st.mode & 0o7777).toString(8).padStart(4, "0")} ${names.user(st.uid)}:${names.group(st.gid)}`;

/**
 * What lets `who` through: join the file's group when its group bits would allow it (never root's
 * group, which would give far more than this socket); else a place or a mode that does.
 */
function fix(st: Stats, who: Who, bit: 1 | 2, restart: string, names: Names): string[] {
  const group = names.group(st.gid);
  if (bit === 2 && who.gids.includes(st.gid) && st.uid !== who.uid) {
    // Already in the socket's group, whose bits forbid it: only the mode the service gives its socket helps.
    const mode = ((st.mode & 0o777) | 0o060).toString(8).padStart(4, "0");
    return [
      `SOCKMODE=${mode} in the service's environment (its group ${group} may then connect), then restart the service`,
    ];
  }
  if (((st.mode >> 3) & bit) !== 0 && !who.gids.includes(st.gid) && st.gid !== 0) {
    // A user or group with no name (a container's numeric ids) cannot be given to adduser.
    if (/^\d+$/.test(who.name) || group === String(st.gid)) {
      return [
        `give ${who.name} the supplementary group ${st.gid} (podman or docker: --group-add ${st.gid}; Kubernetes: securityContext.supplementalGroups: [${st.gid}])`,
      ];
    }
    return [`adduser ${who.name} ${group}`, `then ${restart}`];
  }
  if (bit === 2) {
    return [
      `give the socket a group of its own that ${who.name} joins: run the service as its own user and group (deploy/systemd/printerfacts.service, SOCKMODE=0660), then adduser ${who.name} printerfacts`,
      `then ${restart}`,
    ];
  }
  return [
    `put the socket where ${who.name} can reach it, such as /run/printerfacts (the unit's RuntimeDirectory=, mode 0750, group printerfacts; SOCKPATH=/run/printerfacts/printerfacts.sock), then adduser ${who.name} printerfacts`,
    `then restart the service, and ${restart}`,
  ];
}

type Verdict = { code: (typeof EXIT)["ok" | "failed" | "denied" | "noPerm"]; lines: string[] };

/** Walk SOCKPATH's directories and the socket as `who`; the first obstacle ends the walk. */
function walk(given: string, who: Who, names: Names, restart: string): Verdict {
  const path = resolve(given);
  const parts = path.split("/").filter(Boolean);
  const dirs = ["/", ...parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
  const lines: string[] = [];
  for (const dir of dirs) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT")
        return {
          code: EXIT.failed,
          lines: [
            ...lines,
            `no: ${dir} does not exist; is the service running? (systemctl status printerfacts: its RuntimeDirectory= makes /run/printerfacts)`,
          ],
        };
      return {
        code: EXIT.noPerm,
        lines: [...lines, `cannot tell: this check may not look at ${dir} (${code}); run it as root`],
      };
    }
    const p = permits(st, who, 1, names);
    lines.push(`  ${dir.padEnd(28)} ${modeAndOwner(st, names).padEnd(34)} search: ${p.ok ? "yes" : "NO"} (as ${p.as})`);
    if (!p.ok) {
      const [first, ...rest] = fix(st, who, 1, restart, names);
      return {
        code: EXIT.denied,
        lines: [
          ...lines,
          `no: ${who.name} may not search ${dir} (${modeAndOwner(st, names)}; ${who.name} gets the ${p.as} bits)`,
          `fix: ${first}`,
          ...rest.map((l) => `     ${l}`),
        ],
      };
    }
  }
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return {
        code: EXIT.failed,
        lines: [...lines, `no: there is no socket at ${path}; is the service running? (systemctl status printerfacts)`],
      };
    return {
      code: EXIT.noPerm,
      lines: [...lines, `cannot tell: this check may not look at ${path} (${code}); run it as root`],
    };
  }
  if (!st.isSocket())
    return {
      code: EXIT.failed,
      lines: [
        ...lines,
        `no: ${path} is not a socket; printerfacts never replaces it: remove it yourself if it is not needed`,
      ],
    };
  const p = permits(st, who, 2, names);
  lines.push(`  ${path.padEnd(28)} ${modeAndOwner(st, names).padEnd(34)} connect: ${p.ok ? "yes" : "NO"} (as ${p.as})`);
  if (!p.ok) {
    const [first, ...rest] = fix(st, who, 2, restart, names);
    return {
      code: EXIT.denied,
      lines: [
        ...lines,
        `no: ${who.name} may not connect to ${path} (${modeAndOwner(st, names)}; connecting needs write, and ${who.name} gets the ${p.as} bits)`,
        `fix: ${first}`,
        ...rest.map((l) => `     ${l}`),
      ],
    };
  }
  return { code: EXIT.ok, lines: [...lines, `yes: ${who.name} can connect to ${path}`] };
}

/** GET /healthz on a raw connection, as this process: no HTTP client needed. Resolves to a status or an error text. */
async function askHealthz(listen: ListenTarget, timeoutMs = 3000): Promise<number | string> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket =
      listen.kind === "unix"
        ? connect({ path: listen.path })
        : listen.kind === "tcp"
          ? connect({
              host: listen.host === "::" ? "::1" : listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host,
              port: listen.port,
            })
          : undefined;
    if (!socket) return resolve("socket activation: systemd holds the socket; probe its path instead");
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs / 1000} s`);
    }, timeoutMs);
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    socket.on("data", (d) => {
      got += d;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused =
        err.code !== "ECONNREFUSED"
          ? ""
          : listen.kind === "tcp"
            ? ` (nothing listens on ${where(listen)})`
            : " (a stale socket: nobody is serving on it)";
      resolve(`could not connect: ${err.code ?? err.message}${refused}`);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const m = got.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve(m ? Number(m[1]) : `no HTTP answer (${JSON.stringify(got.slice(0, 40))})`);
    });
  });
}

const where = (tcp: { host: string; port: number }) =>
  `${tcp.host.includes(":") ? `[${tcp.host}]` : tcp.host}:${tcp.port}`;

/**
 * The command that runs check with the service's environment: for the printerfacts unit systemd
 * has loaded (install-debian.sh's are printerfacts@1, @2, ...), else for printerfacts@1.
 */
function withServiceEnvironment(execFileSync: typeof import("node:child_process").execFileSync): string {
  let unit = "printerfacts@1";
  try {
    const units = execFileSync(
      "systemctl",
      ["list-units", "--plain", "--no-legend", "printerfacts.service", "printerfacts@*.service"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    unit = units.match(/^(printerfacts(@[^.\s]+)?)\.service\s/m)?.[1] ?? unit;
  } catch {}
  return `env $(systemctl show -P Environment ${unit}) printerfacts check`;
}

/** The subcommand; returns the exit code. */
export async function check(
  args: string[],
  env: Record<string, string | undefined>,
  out: Out = (l) => console.log(l),
): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith("-")) {
    out("usage: printerfacts check [USER]   (USER defaults to the user nginx's workers run as)");
    return EXIT.usage;
  }
  const { execFileSync } = await import("node:child_process");
  const names = namesVia(execFileSync);
  let listen: ListenTarget;
  try {
    listen = loadConfig(env).main.target;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out(`config: ${err.message}`);
    return EXIT.config;
  }

  let code: number = EXIT.ok;
  if (listen.kind === "unix") {
    const chosen = args[0] ? { name: args[0], why: "given" } : defaultUser(names);
    const who = lookUp(names, chosen.name);
    if (!who) {
      out(
        names.missing
          ? `cannot look up ${chosen.name}: there is no getent here (Debian package libc-bin); leave USER out to check the current user`
          : `${chosen.name} is not a user on this host (getent passwd ${chosen.name} found nothing)`,
      );
      return EXIT.noUser;
    }
    // Whoever USER is, joining a group reaches its processes only when they start again.
    const nginx = chosen.why.startsWith("nginx") ? chosen : defaultUser(names);
    const nginxUser = nginx.why.startsWith("nginx") && nginx.name === who.name;
    out(
      `can ${who.name} (${chosen.why}; uid ${who.uid}, groups ${who.gids.map(names.group).join(",")}) connect to ${listen.path}?`,
    );
    const verdict = walk(
      listen.path,
      who,
      names,
      nginxUser
        ? "systemctl restart nginx (its workers take their groups when nginx starts)"
        : `restart what runs as ${who.name} (a process takes its groups when it starts; for nginx: systemctl restart nginx)`,
    );
    for (const line of verdict.lines) out(line);
    if (verdict.code === EXIT.noPerm) return EXIT.noPerm;
    code = verdict.code;
    if (/^\/(var\/)?tmp\//.test(listen.path)) {
      out(
        `note: ${listen.path} is under ${listen.path.startsWith("/tmp") ? "/tmp" : "/var/tmp"}; under systemd nginx may have PrivateTmp= and see another one (the article's 502): use /run/printerfacts`,
      );
    }
  } else if (listen.kind === "tcp" && env.SOCKPATH === undefined && env.PORT === undefined) {
    // Run without the service's environment: what it checks is the default, not the service.
    out(
      `SOCKPATH is not set, so this looked at TCP ${where(listen)}, the default; the service's socket is in its environment`,
    );
    out(`fix: ${withServiceEnvironment(execFileSync)}`);
  } else if (listen.kind === "tcp") {
    out(`printerfacts serves on TCP ${where(listen)}; there are no socket permissions to check`);
  }

  const status = await askHealthz(listen);
  out(`GET /healthz: ${typeof status === "number" ? `${status}${status === 200 ? " ok" : ""}` : status}`);
  if (code === EXIT.ok && status !== 200) code = EXIT.failed;
  return code;
}

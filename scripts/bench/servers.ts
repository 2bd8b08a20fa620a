// Starting, probing and stopping the servers under test, each as a real process.
import { readFileSync, rmSync } from "node:fs";
import type { Subprocess } from "bun";
import { ENV_VARS } from "../../src/config.ts";
import { childrenOf, descendantsOf } from "./proc.ts";

export type Target = { kind: "unix"; path: string } | { kind: "tcp"; port: number };

export interface InstanceSpec {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  /** Where to ask whether it is up (a path that answers 200). */
  ready: { target: Target; path: string };
  /** nginx: measure the master and its workers together. */
  withChildren?: boolean;
  /** Where its stdout goes: the access log is written but not kept. */
  stdout?: string;
  cwd?: string;
}

/** Variables a parent shell may have set that would change what a server binds or logs: all of ours. */
const SCRUB: readonly string[] = ENV_VARS;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.includes(k)) env[k] = v;
  return { ...env, ...extra };
}

export class Instance {
  proc: Subprocess;
  constructor(
    readonly spec: InstanceSpec,
    readonly pin: string[],
    readonly logPath: string,
  ) {
    this.proc = this.spawn();
  }

  private spawn(): Subprocess {
    return Bun.spawn([...this.pin, ...this.spec.cmd], {
      env: cleanEnv(this.spec.env),
      cwd: this.spec.cwd,
      stdin: "ignore",
      stdout: this.spec.stdout ? Bun.file(this.spec.stdout) : "ignore",
      stderr: Bun.file(this.logPath),
    });
  }

  /** Stops it and starts a fresh process from the same spec, on the same socket or port. */
  async restart(): Promise<void> {
    await this.stop();
    const { target } = this.spec.ready;
    if (target.kind === "unix") rmSync(target.path, { force: true }); // a peer may leave its socket behind
    this.proc = this.spawn();
    await this.waitReady();
  }

  /** The processes whose CPU counts as this server's: the one started and all below it. */
  pids(): number[] {
    return [this.proc.pid, ...descendantsOf(this.proc.pid)];
  }

  /** The process that holds the connections (nginx's worker, else the server itself). */
  mainPid(): number {
    return this.spec.withChildren ? (childrenOf(this.proc.pid)[0] ?? this.proc.pid) : this.proc.pid;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) break;
      const status = await request(this.spec.ready.target, this.spec.ready.path).catch(() => 0);
      if (status === 200) return;
      await Bun.sleep(50);
    }
    const log = readFileSync(this.logPath, "utf8").trim().split("\n").slice(-5).join("\n  ");
    throw new Error(`${this.spec.name} did not come up (exit ${this.proc.exitCode}):\n  ${log}`);
  }

  /** SIGTERM, then SIGKILL after 5 s; whatever it started that outlives it is killed too. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const below = descendantsOf(this.proc.pid);
    this.proc.kill("SIGTERM");
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
    if (!exited) {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    }
    killPids(below, "SIGKILL");
  }

  /** Now, synchronously (for process exit): this process and all below it. */
  kill(): void {
    if (this.proc.exitCode === null) killPids([this.proc.pid, ...descendantsOf(this.proc.pid)], "SIGKILL");
  }
}

/** Signals each pid; one that is gone already is skipped. */
export function killPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** One GET; resolves to the status. */
export async function request(target: Target, path: string): Promise<number> {
  const res =
    target.kind === "unix"
      ? await fetch(`http://localhost${path}`, { unix: target.path })
      : await fetch(`http://127.0.0.1:${target.port}${path}`);
  await res.arrayBuffer();
  return res.status;
}

/** A loopback TCP port nobody is using right now. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

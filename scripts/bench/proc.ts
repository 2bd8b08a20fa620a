// What the benchmark reads from /proc: a process's CPU time and resident memory, and the whole
// machine's busy time (to show how much of the load came from other people's work).
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc/PID/stat; 100 on every Linux build that matters. */
const TICKS = 100;

/** User + system CPU seconds of a process (all its threads); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** Resident set size in MB (10^6 bytes, as the targets are stated); 0 once the process is gone. */
export function rssMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? (Number(kb[1]) * 1024) / 1e6 : 0;
  } catch {
    return 0;
  }
}

/**
 * The part of the resident set that is the process's own (RssAnon + RssShmem), in MB: the rest is
 * file pages, for a compiled binary mostly its own executable's, shared by every instance of it.
 */
export function privateMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return ((kb("RssAnon") + kb("RssShmem")) * 1024) / 1e6;
  } catch {
    return 0;
  }
}

/** Direct children of a process (nginx's workers under its master). */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Busy CPU seconds of the whole machine, all cores together (from /proc/stat). */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

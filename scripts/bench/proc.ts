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

/** Fields of /proc/PID/status in kB (VmRSS, RssAnon, …); 0 for each once the process is gone. */
function statusKb(pid: number, ...fields: string[]): number[] {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    // gone
  }
  return fields.map((field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0));
}

const kbToMB = (kb: number) => (kb * 1024) / 1e6;

/** Resident set size in MB (10^6 bytes, as the targets are stated); 0 once the process is gone. */
export function rssMB(pid: number): number {
  return kbToMB(statusKb(pid, "VmRSS")[0]);
}

/**
 * The part of the resident set that is the process's own (RssAnon + RssShmem), in MB: the rest is
 * file pages, for a compiled binary mostly its own executable's, shared by every instance of it.
 */
export function privateMB(pid: number): number {
  const [anon, shmem] = statusKb(pid, "RssAnon", "RssShmem");
  return kbToMB(anon + shmem);
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

/** Every process below a process: a wrapper's runtime, nginx's workers. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const children = childrenOf(queue.shift() as number);
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

/** Busy CPU seconds of the whole machine, all cores together (from /proc/stat). */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

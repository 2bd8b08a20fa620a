// The standard process metrics (the names and help texts prom-client and client_golang use), read
// at scrape time: CPU and start time from the runtime, memory and descriptors from /proc/self.
// Where /proc/self cannot be read (Deno allows it only with --allow-all) a metric is left out
// rather than reported as 0, except resident memory, which every runtime tells us itself.
//
// Of prom-client's nodejs_* metrics only those that mean the same on Bun, Node and Deno are kept:
// the event-loop lag needs a timer waking the process 100 times a second, and the active
// handles, GC and heap-space metrics are empty or 0 under Bun.
import { readFileSync } from "node:fs";
import { fdLimit, openFds } from "./fdwatch.ts";
import { header, sampleLine, single } from "./prometheus-text.ts";

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** VmRSS, VmSize and VmData from /proc/self/status, in bytes; undefined if it cannot be read. */
function procStatus(): { rss?: number; virtual?: number; data?: number } | undefined {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kib = (field: string) => {
      const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
      return m ? Number(m[1]) * 1024 : undefined;
    };
    return { rss: kib("VmRSS"), virtual: kib("VmSize"), data: kib("VmData") };
  } catch {
    return undefined;
  }
}

/** process.version ("v20.20.2"; under Bun and Deno the Node version they implement) as labels. */
function nodeVersionLabels(): string {
  const version = process.version;
  const [major = "", minor = "", patch = ""] = version.replace(/^v/, "").split(/[.-]/);
  return `version="${version}",major="${major}",minor="${minor}",patch="${patch}"`;
}

/** Returns what renders the process metrics' text, as of each call. */
export function processMetrics(): () => string {
  const hasProc = readable("/proc/self/status");
  const maxFds = hasProc ? fdLimit() : undefined;
  // As prom-client gives it: whole seconds.
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  const nodeVersion =
    header("nodejs_version_info", "gauge", "Node.js version info.") +
    sampleLine("nodejs_version_info", nodeVersionLabels(), 1);

  return () => {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    let out =
      single("process_cpu_user_seconds_total", "counter", "Total user CPU time spent in seconds.", cpu.user / 1e6) +
      single(
        "process_cpu_system_seconds_total",
        "counter",
        "Total system CPU time spent in seconds.",
        cpu.system / 1e6,
      ) +
      single(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        (cpu.user + cpu.system) / 1e6,
      ) +
      single(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        startTime,
      );

    const status = hasProc ? procStatus() : undefined;
    out += single(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory size in bytes.",
      status?.rss ?? memory.rss,
    );
    if (status?.virtual !== undefined)
      out += single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", status.virtual);
    if (status?.data !== undefined)
      out += single("process_heap_bytes", "gauge", "Process heap size in bytes.", status.data);
    // None left even to count them: that is the limit (as fdwatch.ts takes it), so the alert on it holds.
    const counted = hasProc ? openFds() : undefined;
    const fds = counted === "exhausted" ? maxFds : counted;
    if (fds !== undefined) out += single("process_open_fds", "gauge", "Number of open file descriptors.", fds);
    if (maxFds !== undefined)
      out += single("process_max_fds", "gauge", "Maximum number of open file descriptors.", maxFds);

    return (
      out +
      single("nodejs_heap_size_total_bytes", "gauge", "Process heap size from Node.js in bytes.", memory.heapTotal) +
      single("nodejs_heap_size_used_bytes", "gauge", "Process heap size used from Node.js in bytes.", memory.heapUsed) +
      single("nodejs_external_memory_bytes", "gauge", "Node.js external memory size in bytes.", memory.external) +
      nodeVersion
    );
  };
}

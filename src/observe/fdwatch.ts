// Running out of file descriptors is otherwise silent: Bun leaves new connections waiting in the
// accept queue (and spins retrying accept) without a word; Node accepts and closes them at once. This compares the open descriptors
// with the soft limit once a second and logs when they near it and when they recover.
// Linux only (/proc); elsewhere it does nothing.
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../types.ts";

/** Warn at 90% of the limit; report recovery below 80%, so a level near 90% is not logged twice a second. */
const WARN_AT = 0.9;
const RECOVERED_BELOW = 0.8;

/** The soft RLIMIT_NOFILE, or undefined if unlimited or unknown. */
export function fdLimit(): number | undefined {
  try {
    const m = readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+(\d+)/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Open descriptors, not counting the one that lists them. At the limit even listing them fails
 * (EMFILE, ENFILE), which says the same: "exhausted". Any other failure gives undefined: neither
 * the watcher nor a scrape may be what takes the service down.
 */
export function openFds(): number | "exhausted" | undefined {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === "EMFILE" || code === "ENFILE" ? "exhausted" : undefined;
  }
}

export function watchFileDescriptors(log: Logger, intervalMs = 1000): () => void {
  const limit = fdLimit();
  if (limit === undefined) return () => {};
  let exhausted = false;
  const timer = setInterval(() => {
    const counted = openFds();
    if (counted === undefined) return;
    const open = counted === "exhausted" ? limit : counted;
    if (!exhausted && open >= limit * WARN_AT) {
      exhausted = true;
      log.error(
        `file descriptors nearly exhausted: ${open} of ${limit} open; new connections wait (Bun) or are closed at once (Node) until some close (raise LimitNOFILE)`,
      );
    } else if (exhausted && open < limit * RECOVERED_BELOW) {
      exhausted = false;
      log.info(`file descriptors recovered: ${open} of ${limit} open`);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

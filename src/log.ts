// Lifecycle messages: one line each on stderr, where journald and `docker logs` pick them up.
// LOG_LEVEL sets the least severe line written; the access log (access-log.ts) follows it too.
import { writeSync } from "node:fs";
import type { LogLevel } from "./config.ts";
import type { Logger } from "./types.ts";

export type Level = "info" | "warn" | "error";

const SEVERITY: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, off: 3 };
let threshold = SEVERITY.info;

/** Apply LOG_LEVEL; until it is known (while the config is read) every line is written. */
export function setLogLevel(level: LogLevel) {
  threshold = SEVERITY[level];
}

export function isEnabled(level: Level): boolean {
  return SEVERITY[level] >= threshold;
}

/** Set once a line could not be written whole at once: from then on every line goes to the stream. */
let queued = false;

/**
 * A line goes straight to fd 2 with write(2): Bun builds process.stderr (and loads node:stream)
 * on its first use, which took 4 ms of every start. A line a full non-blocking pipe did not take
 * whole goes to process.stderr, which queues it, and so do all later lines, to keep their order.
 */
function emit(level: Level, message: string) {
  const line = Buffer.from(`printerfacts ${level}: ${message}\n`);
  let written = 0;
  if (!queued) {
    try {
      written = writeSync(2, line);
    } catch {
      // EAGAIN, or stderr is closed: the stream reports or drops it as it would have.
    }
  }
  if (written < line.length) {
    queued = true;
    process.stderr.write(line.subarray(written));
  }
}

function write(level: Level, message: string) {
  if (SEVERITY[level] >= threshold) emit(level, message);
}

/** Always written, whatever LOG_LEVEL says: the one line that explains a non-zero exit. */
export function fatal(message: string) {
  emit("error", message);
}

export const log: Logger = {
  info: (m) => write("info", m),
  warn: (m) => write("warn", m),
  error: (m) => write("error", m),
};

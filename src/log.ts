// Lifecycle messages: one line each on stderr, where journald and `docker logs` pick them up.
// LOG_LEVEL sets the least severe line written; the access log (access-log.ts) follows it too.
import type { LogLevel } from "./config.ts";

export type Level = "info" | "warn" | "error";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const SEVERITY: Record<LogLevel, number> = { info: 0, warn: 1, error: 2, off: 3 };
let threshold = SEVERITY.info;

/** Apply LOG_LEVEL; until it is known (while the config is read) every line is written. */
export function setLogLevel(level: LogLevel) {
  threshold = SEVERITY[level];
}

export function isEnabled(level: Level): boolean {
  return SEVERITY[level] >= threshold;
}

function emit(level: Level, message: string) {
  process.stderr.write(`printerfacts ${level}: ${message}\n`);
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

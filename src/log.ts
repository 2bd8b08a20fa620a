// Lifecycle messages: one line each on stderr, where journald and `docker logs` pick them up.
// LOG_LEVEL sets the least severe line written; the access log (access-log.ts) follows it too.
import { writeSync } from "node:fs";
import { type LineWriter, lineWriter } from "./observe/line-writer.ts";
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

/** Once serving starts (useNonBlockingStderr), lines go out through this; until then, straight. */
let stderr: LineWriter | undefined;

/**
 * From now on lines go out through a non-blocking writer (line-writer.ts): a stalled or gone
 * reader of stderr must never hold up serving. Called as soon as the listeners are up.
 */
export function useNonBlockingStderr() {
  const writer = lineWriter(2, {
    stream: "stderr",
    immediate: true,
    onError: () => {}, // stderr's reader is gone: there is nowhere left to say so
    onDropped: (count) =>
      writer.write(line("warn", `${count} log lines dropped while stderr's reader was not keeping up`), true),
  });
  stderr = writer;
}

const line = (level: Level, message: string) => `printerfacts ${level}: ${message}\n`;

/**
 * Until serving starts, a line goes straight to fd 2 with write(2): the line that explains a
 * refused start is out before the exit, and Bun need not build process.stderr (4 ms) on every
 * start. What a full non-blocking pipe does not take, or a gone reader, is dropped.
 */
function emit(level: Level, message: string, always = false) {
  if (stderr) return stderr.write(line(level, message), always);
  const bytes = Buffer.from(line(level, message));
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(2, bytes, written);
  } catch {
    // EAGAIN, EPIPE, or stderr is closed: nothing else can carry it.
  }
}

function write(level: Level, message: string) {
  if (SEVERITY[level] >= threshold) emit(level, message);
}

/** Always written, whatever LOG_LEVEL says: the one line that explains a non-zero exit. */
export function fatal(message: string) {
  emit("error", message, true);
}

export const log: Logger = {
  info: (m) => write("info", m),
  warn: (m) => write("warn", m),
  error: (m) => write("error", m),
};

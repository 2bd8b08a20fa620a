// Lifecycle messages: one line each on stderr, where journald and `docker logs` pick them up.
export type Level = "info" | "warn" | "error";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function write(level: Level, message: string) {
  process.stderr.write(`printerfacts ${level}: ${message}\n`);
}

export const log: Logger = {
  info: (m) => write("info", m),
  warn: (m) => write("warn", m),
  error: (m) => write("error", m),
};

// An error that escapes every request (a throwing timer, a forgotten promise) leaves the process
// in a state nobody planned for. Log it and exit non-zero, so systemd (Restart=on-failure) starts
// a clean one; the stale socket it leaves is recovered on that start (socket.ts). Errors inside
// a request never come here: Hono's onError turns them into a 500 (app.ts).
import { EXIT } from "./cli/exit.ts";

/**
 * `report` writes one line whatever LOG_LEVEL says (log.ts's fatal); `flush` lets the log lines
 * out first, for a bounded time (line-writer.ts's flushAll), so a stalled reader cannot hold the exit.
 */
export function exitOnFatalErrors(report: (message: string) => void, flush?: () => Promise<void>): void {
  let exiting = false;
  const die = (what: string) => (err: unknown) => {
    report(`${what}, exiting: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (exiting) return;
    exiting = true;
    if (!flush) process.exit(EXIT.software);
    flush().finally(() => process.exit(EXIT.software));
  };
  process.on("uncaughtException", die("uncaught exception"));
  process.on("unhandledRejection", die("unhandled rejection"));
}

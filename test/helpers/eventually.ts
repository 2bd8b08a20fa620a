// Waiting in tests: for a condition, with a deadline, never for a fixed time. bun:test has no
// poll or waitFor of its own (only the per-test timeout, which names no cause), hence this.

export interface EventuallyOptions {
  /** What never happened, for the error: "nginx to accept on its port". A function is called on failure. */
  what: string | (() => string);
  /** Default 5000. */
  timeoutMs?: number;
  /** Time between checks; default 20. */
  intervalMs?: number;
}

/**
 * Call `check` until it returns a truthy value, and return that value. After timeoutMs, throw
 * "timed out after N ms waiting for <what>". `check` throwing fails at once (a process that
 * exited, say); a check that may throw while not yet true catches and returns false itself.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { what, timeoutMs = 5000, intervalMs = 20 }: EventuallyOptions,
): Promise<Exclude<T, false | 0 | "" | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  const timedOut = () =>
    new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
  for (;;) {
    // A check that never settles (a connect nobody answers) cannot outlast the deadline either.
    let timer: Timer | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
    });
    try {
      const value = await Promise.race([check(), late]);
      if (value) return value as Exclude<T, false | 0 | "" | null | undefined>;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() >= deadline) throw timedOut();
    await Bun.sleep(intervalMs);
  }
}

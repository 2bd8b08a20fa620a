// Small helpers every adapter uses.

/** An IPv6 address goes in brackets in a URL. */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Waits for `done` up to `timeoutMs`; resolves to true if the time ran out first. */
export function raceTimeout(done: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, true);
  });
  return Promise.race([done.then(() => false), timedOut]).finally(() => clearTimeout(timer));
}

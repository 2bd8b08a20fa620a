// Batched writes of whole lines to a file descriptor (the access log on stdout). Lines collect
// in memory and go out in one write(2) every FLUSH_MS or at MAX_PENDING bytes, so a busy server
// makes one system call per batch instead of one per request. The write is synchronous: a slow
// reader (a stalled journald) slows the server down instead of growing the buffer without
// bound, and nothing is left pending in a stream when the process exits.
import { writeSync } from "node:fs";

export const FLUSH_MS = 100;
export const MAX_PENDING = 64 * 1024;

const pause = new Int32Array(new SharedArrayBuffer(4));

export interface LineWriter {
  /** Queue one line; it must end in "\n". */
  write(line: string): void;
  /** Write out everything queued now. */
  flush(): void;
}

export function lineWriter(fd: number, onError: (err: Error) => void): LineWriter {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failed = false;
  // Reused for every batch: a new Buffer per batch was a measurable share of a request's cost.
  let out = Buffer.allocUnsafe(MAX_PENDING * 3);

  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "" || failed) return;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; a line can take a batch past MAX_PENDING.
    if (pending.length * 3 > out.length) out = Buffer.allocUnsafe(pending.length * 3);
    const length = out.write(pending);
    pending = "";
    let written = 0;
    while (written < length) {
      try {
        written += writeSync(fd, out, written, length - written);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === "EAGAIN") {
          // A non-blocking pipe that is full: sleep a millisecond (no spinning) and try again.
          Atomics.wait(pause, 0, 0, 1);
          continue;
        }
        // The reader is gone (EPIPE) or the fd is bad: stop logging, keep serving.
        failed = true;
        onError(e);
        return;
      }
    }
  };

  // Whatever way the process ends (a clean stop, a second signal, an uncaught error), write out
  // what is queued: process.exit() runs this, and writeSync needs no event loop.
  process.on("exit", flush);

  return {
    write(line) {
      pending += line;
      if (pending.length >= MAX_PENDING) flush();
      else if (timer === undefined) timer = setTimeout(flush, FLUSH_MS).unref();
    },
    flush,
  };
}

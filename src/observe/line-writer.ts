// Batched writes of whole lines to stdout or stderr (the access log, the service's own lines),
// never blocking the event loop. Lines collect in memory and go out in one write every FLUSH_MS or
// at MAX_BATCH bytes, so a busy server makes one write per batch instead of one per request. At
// most one write is in flight: a reader that stalls (a journald under I/O pressure, `| less`)
// holds up that write alone, while serving goes on. Lines wait meanwhile, up to MAX_BUFFERED; past
// it they are dropped and counted (printerfacts_log_lines_dropped_total), and once the reader is
// back one line says how many. A reader that is gone (EPIPE) ends the stream; serving goes on.
import { write as fsWrite } from "node:fs";

export const FLUSH_MS = 100;
/** A batch this big goes out at once, without waiting for the timer. */
export const MAX_BATCH = 64 * 1024;
/**
 * 1 MiB (~5000 access lines, as Docker's non-blocking log mode): rides out a reader's pause of a
 * second or so at full load. Counted in UTF-16 units of queued text (up to 3 MiB of UTF-8 for
 * non-ASCII paths); lines written `always` (the fatal line, the dropped-count notices) pass it.
 */
export const MAX_BUFFERED = 1024 * 1024;
/** How long a final flush (before exit) waits for a slow reader: SIGTERM's exit must not hang on it. */
export const FINAL_FLUSH_MS = 500;

export type StreamName = "stdout" | "stderr";

/** Lines dropped per stream since the start, for /metrics. */
const dropped: Record<StreamName, number> = { stdout: 0, stderr: 0 };

export function droppedLines(): Readonly<Record<StreamName, number>> {
  return dropped;
}

export interface LineWriter {
  /** Queue one line; it must end in "\n". Past MAX_BUFFERED it is dropped, unless `always`. */
  write(line: string, always?: boolean): void;
  /** Write out everything queued now; resolves when it is out or the stream has failed. */
  flush(): Promise<void>;
}

/** Writes some of `bytes` without blocking the event loop; `done` says how many, or why none. */
export type Sink = (bytes: Uint8Array, done: (err: NodeJS.ErrnoException | null, written: number) => void) => void;

interface DenoWriter {
  write(bytes: Uint8Array): Promise<number>;
}
declare const Deno: { stdout: DenoWriter; stderr: DenoWriter } | undefined;

/** Each runtime's way to write to fd 1 or 2 without blocking its event loop (measured on a full pipe). */
function sinkFor(fd: number): Sink {
  const stdio = fd === 1 || fd === 2;
  if (stdio && typeof Deno !== "undefined") {
    // Deno's node:fs write and process.stdout block the event loop; Deno.stdout.write runs on a
    // blocking-pool thread, and Deno.exit() does not wait for it.
    const target = fd === 1 ? Deno.stdout : Deno.stderr;
    return (bytes, done) =>
      target.write(bytes).then(
        (n) => done(null, n),
        (err) => done(err, 0),
      );
  }
  if (stdio && typeof Bun !== "undefined") {
    // Bun: a FileSink, which writes what the pipe takes and waits for the rest in epoll. Not
    // process.stdout (it loads node:stream: +7 MB of idle RSS, measured), nor fs.write (Bun's pool
    // has a thread per core, which two stalled streams take). Made on first use.
    let sink: import("bun").FileSink | undefined;
    return (bytes, done) => {
      sink ??= (fd === 1 ? Bun.stdout : Bun.stderr).writer();
      const settle = (pending: number | Promise<number>) => {
        if (typeof pending === "number") return done(null, bytes.length);
        pending.then(
          () => done(null, bytes.length),
          (err) => done(err, 0),
        );
      };
      const accepted = sink.write(bytes);
      if (typeof accepted !== "number") return settle(accepted);
      settle(sink.flush());
    };
  }
  if (stdio) {
    // Node: its stdio streams set a pipe O_NONBLOCK (as any program of its that logs does) and
    // wait for it in epoll. Not fs.write: process.exit() joins the pool thread a stalled write
    // holds, so the exit hangs.
    let stream: NodeJS.WriteStream | undefined;
    return (bytes, done) => {
      if (stream === undefined) {
        stream = fd === 1 ? process.stdout : process.stderr;
        stream.on("error", () => {}); // the write's callback gets it too; unheard, it would be fatal
      }
      stream.write(bytes, (err) => done(err ?? null, err ? 0 : bytes.length));
    };
  }
  // Any other fd (the tests' files and pipes): fs.write, on the runtime's thread pool.
  return (bytes, done) => fsWrite(fd, bytes, 0, bytes.length, null, (err, n) => done(err, n));
}

export interface LineWriterOptions {
  stream: StreamName;
  /** The stream failed (EPIPE: nobody reads it any more). Called once; later lines are dropped. */
  onError(err: Error): void;
  /** `count` lines were dropped while the reader was behind; called when a write completes again. */
  onDropped(count: number): void;
  /** Start a write as soon as a line comes and none is in flight, instead of batching (few lines). */
  immediate?: boolean;
  /** Where the bytes go; by default the runtime's non-blocking write to `fd`. */
  sink?: Sink;
}

const writers = new Set<LineWriter>();

/** Flush every writer, waiting at most `timeoutMs` for slow readers: what is left is lost. */
export function flushAll(timeoutMs = FINAL_FLUSH_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A referenced timer: the process must not end on its own, exit code 0, while this waits.
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  return Promise.race([Promise.all([...writers].map((w) => w.flush())).then(() => {}), bound]).finally(() =>
    clearTimeout(timer),
  );
}

export function lineWriter(fd: number, options: LineWriterOptions): LineWriter {
  const sink = options.sink ?? sinkFor(fd);
  let pending = "";
  /** Lines in `pending`. */
  let lines = 0;
  let busy = false;
  let failed = false;
  /** Dropped since the last onDropped. */
  let unreported = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiters: (() => void)[] = [];
  // Reused for every batch: a new Buffer per batch was a measurable share of a request's cost.
  let out = Buffer.allocUnsafe(MAX_BATCH * 3);

  const drop = (count: number) => {
    dropped[options.stream] += count;
    unreported += count;
  };

  const settle = () => {
    if (busy || (pending !== "" && !failed)) return;
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  };

  const schedule = () => {
    if (timer === undefined) timer = setTimeout(start, FLUSH_MS).unref();
  };

  function start() {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (busy || failed || pending === "") return settle();
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (pending.length * 3 > out.length) out = Buffer.allocUnsafe(pending.length * 3);
    const length = out.write(pending);
    const batch = lines;
    pending = "";
    lines = 0;
    busy = true;
    send(0, length, batch);
  }

  function send(offset: number, length: number, batch: number) {
    try {
      sink(out.subarray(offset, length), done);
    } catch (err) {
      done(err as NodeJS.ErrnoException, 0); // a sink that throws instead of calling back
    }
    function done(err: NodeJS.ErrnoException | null, written: number) {
      if (err && err.code !== "EAGAIN") {
        // The reader is gone (EPIPE) or the fd is bad: this stream ends, serving goes on.
        failed = true;
        busy = false;
        drop(batch + lines);
        pending = "";
        lines = 0;
        options.onError(err);
        return settle();
      }
      // EAGAIN: a full pipe someone else made non-blocking; try again a little later.
      if (err || written === 0) return void setTimeout(() => send(offset, length, batch), FLUSH_MS).unref();
      if (offset + written < length) return send(offset + written, length, batch);
      busy = false;
      if (unreported > 0) {
        const count = unreported;
        unreported = 0;
        options.onDropped(count);
      }
      if (pending.length >= MAX_BATCH || (waiters.length > 0 && pending !== "")) start();
      else if (pending !== "") schedule();
      else settle();
    }
  }

  const writer: LineWriter = {
    write(line, always = false) {
      if (failed || (!always && pending.length + line.length > MAX_BUFFERED)) return drop(1);
      pending += line;
      lines++;
      if (busy) return;
      if (options.immediate || pending.length >= MAX_BATCH) start();
      else schedule();
    },
    flush() {
      const done = new Promise<void>((resolve) => waiters.push(resolve));
      start();
      return done;
    },
  };
  writers.add(writer);
  return writer;
}

// line-writer.ts on a real pipe (a FIFO, made with mkfifo): a reader that stops reading never
// blocks the caller, lines past the buffer are dropped, counted and reported once it is back, and a
// full non-blocking pipe is written again later. The in-process cases: test/unit/line-writer.test.ts.
import { afterAll, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { droppedLines, FLUSH_MS, flushAll, lineWriter, MAX_BUFFERED } from "../src/observe/line-writer.ts";
import { eventually } from "./helpers/eventually.ts";
import { strict } from "./helpers/line-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "pf-fifo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A real pipe (a FIFO): a non-blocking read end kept by the test, and a write end for the writer,
 * blocking unless asked (a pipe someone else made non-blocking).
 */
function pipe(name: string, nonBlockingWrite = false) {
  const fifo = join(dir, name);
  const made = Bun.spawnSync(["mkfifo", fifo]);
  if (made.exitCode !== 0) throw new Error(`mkfifo ${fifo} failed: ${made.stderr.toString()}`);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY | (nonBlockingWrite ? constants.O_NONBLOCK : 0));
  return { readFd, writeFd };
}

test("a pipe nobody reads: writing never blocks, lines past MAX_BUFFERED are dropped and counted, and the count is reported once the reader is back", async () => {
  const { readFd, writeFd } = pipe("fifo");
  const reports: number[] = [];
  const before = droppedLines().stdout;
  const writer = lineWriter(writeFd, { ...strict, onDropped: (count) => reports.push(count) });

  const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(236)}\n`; // 250 bytes
  const total = Math.ceil((2 * MAX_BUFFERED) / 250);
  const started = performance.now();
  for (let i = 0; i < total; i++) writer.write(line(i));
  expect(performance.now() - started).toBeLessThan(1000); // no write(2) waited for the reader
  await Bun.sleep(3 * FLUSH_MS); // a fixed wait on purpose: three flushes meet a full pipe, and none may report yet
  const dropped = droppedLines().stdout - before;
  // The pipe takes 64 KiB and the buffer 1 MiB; everything else is dropped.
  expect(dropped).toBeGreaterThan(total / 3);
  expect(reports).toEqual([]);

  // The reader comes back: everything that was kept arrives, whole lines in order, then the report.
  const chunk = Buffer.alloc(1 << 20);
  let received = "";
  const read = () => {
    try {
      const n = readSync(readFd, chunk);
      received += chunk.toString("latin1", 0, n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  };
  let flushed = false;
  writer.flush().then(() => {
    flushed = true;
  });
  await eventually(
    () => {
      read();
      return flushed;
    },
    { what: "the flush to finish while the test reads the pipe", timeoutMs: 10_000, intervalMs: 2 },
  );
  read();
  expect(reports).toEqual([dropped]);
  const lines = received.split("\n").slice(0, -1);
  expect(lines.length).toBe(total - dropped);
  const numbers = lines.map((l) => Number(l.split(" ")[1]));
  expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1])).toBe(true);
  expect(lines.every((l) => l.length === 249)).toBe(true);
  closeSync(writeFd);
  closeSync(readFd);
});

test("flushAll waits for a stalled reader no longer than it is told", async () => {
  const { readFd, writeFd } = pipe("fifo2");
  const writer = lineWriter(writeFd, { ...strict, onDropped: () => {} });
  for (let i = 0; i < 1000; i++) writer.write(`${"y".repeat(199)}\n`); // 200 KB: more than the pipe holds
  const started = performance.now();
  await flushAll(200);
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(190);
  expect(waited).toBeLessThan(1000);
  // Let the blocked write finish before closing its fd.
  const chunk = Buffer.alloc(1 << 20);
  let read = 0;
  await eventually(
    () => {
      try {
        read += readSync(readFd, chunk);
      } catch {}
      return read >= 200_000;
    },
    { what: "the blocked write's 200 KB to be read", timeoutMs: 10_000, intervalMs: 2 },
  );
  closeSync(writeFd);
  closeSync(readFd);
});

test("a full pipe someone made non-blocking (EAGAIN): the write is tried again, and nothing kept is lost", async () => {
  const { readFd, writeFd } = pipe("fifo3", true);
  const errors: Error[] = [];
  const writer = lineWriter(writeFd, { ...strict, onError: (err) => errors.push(err) });
  const total = 1000; // 200 KB: more than the pipe's 64 KiB, less than MAX_BUFFERED
  for (let i = 0; i < total; i++) writer.write(`${String(i).padStart(6, "0")} ${"z".repeat(192)}\n`);
  await Bun.sleep(3 * FLUSH_MS); // the pipe is full: EAGAIN, and again
  let flushed = false;
  writer.flush().then(() => {
    flushed = true;
  });
  const chunk = Buffer.alloc(1 << 20);
  let received = "";
  await eventually(
    () => {
      try {
        received += chunk.toString("latin1", 0, readSync(readFd, chunk));
      } catch {}
      return flushed;
    },
    { what: "the flush to finish while the test reads the pipe", timeoutMs: 10_000, intervalMs: 2 },
  );
  try {
    received += chunk.toString("latin1", 0, readSync(readFd, chunk));
  } catch {}
  expect(errors).toEqual([]);
  const lines = received.split("\n").slice(0, -1);
  expect(lines.map((l) => Number(l.slice(0, 6)))).toEqual(Array.from({ length: total }, (_, i) => i));
  closeSync(writeFd);
  closeSync(readFd);
});

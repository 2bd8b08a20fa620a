// line-writer.ts in process, on real file descriptors: lines go out in batches, a reader that
// stops reading never blocks the caller (lines past the buffer are dropped, counted, and reported
// once it is back), and a writer whose fd fails says so once and stops instead of throwing.
import { afterAll, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  droppedLines,
  FLUSH_MS,
  flushAll,
  lineWriter,
  MAX_BATCH,
  MAX_BUFFERED,
  type LineWriterOptions,
} from "../../src/observe/line-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "pf-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const strict: LineWriterOptions = {
  stream: "stdout",
  onError: (err) => {
    throw err;
  },
  onDropped: (count) => {
    throw new Error(`${count} dropped`);
  },
};

async function until(condition: () => boolean, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(2);
  }
}

test("lines wait in memory until flush(), then go out whole and in order", async () => {
  const path = join(dir, "log");
  const fd = openSync(path, "w");
  const writer = lineWriter(fd, strict);
  writer.write("one\n");
  writer.write("twö\n");
  expect(readFileSync(path, "utf8")).toBe("");
  await writer.flush();
  expect(readFileSync(path, "utf8")).toBe("one\ntwö\n");
  await writer.flush();
  expect(readFileSync(path, "utf8")).toBe("one\ntwö\n");
  closeSync(fd);
});

test("a batch that reaches MAX_BATCH goes out at once, without waiting for the timer", async () => {
  const path = join(dir, "big");
  const fd = openSync(path, "w");
  const writer = lineWriter(fd, strict);
  const line = `${"x".repeat(1023)}\n`;
  const started = Date.now();
  for (let i = 0; i < MAX_BATCH / line.length; i++) writer.write(line);
  await until(() => readFileSync(path).length === MAX_BATCH);
  expect(Date.now() - started).toBeLessThan(FLUSH_MS);
  closeSync(fd);
});

test("an fd that cannot be written: onError once, later lines dropped and counted, nothing thrown", async () => {
  const fd = openSync(join(dir, "log"), "r"); // read-only: write(2) fails with EBADF
  const errors: string[] = [];
  const before = droppedLines().stderr;
  const writer = lineWriter(fd, {
    ...strict,
    stream: "stderr",
    onError: (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message),
  });
  writer.write("a\n");
  await writer.flush();
  writer.write("b\n");
  await writer.flush();
  expect(errors).toEqual(["EBADF"]);
  expect(droppedLines().stderr - before).toBe(2);
  closeSync(fd);
});

test("a pipe nobody reads: writing never blocks, lines past MAX_BUFFERED are dropped and counted, and the count is reported once the reader is back", async () => {
  // A FIFO gives a real pipe: a non-blocking read end kept by the test, a blocking write end.
  const fifo = join(dir, "fifo");
  Bun.spawnSync(["mkfifo", fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const reports: number[] = [];
  const before = droppedLines().stdout;
  const writer = lineWriter(writeFd, { ...strict, onDropped: (count) => reports.push(count) });

  const line = (i: number) => `line ${String(i).padStart(7, "0")} ${"x".repeat(236)}\n`; // 250 bytes
  const total = Math.ceil((2 * MAX_BUFFERED) / 250);
  const started = performance.now();
  for (let i = 0; i < total; i++) writer.write(line(i));
  expect(performance.now() - started).toBeLessThan(1000); // no write(2) waited for the reader
  await Bun.sleep(3 * FLUSH_MS);
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
  await until(() => {
    read();
    return flushed;
  }, 10_000);
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
  const fifo = join(dir, "fifo2");
  Bun.spawnSync(["mkfifo", fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
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
  await until(() => {
    try {
      read += readSync(readFd, chunk);
    } catch {}
    return read >= 200_000;
  }, 10_000);
  closeSync(writeFd);
  closeSync(readFd);
});

test("a full pipe someone made non-blocking (EAGAIN): the write is tried again, and nothing kept is lost", async () => {
  const fifo = join(dir, "fifo3");
  Bun.spawnSync(["mkfifo", fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
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
  await until(() => {
    try {
      received += chunk.toString("latin1", 0, readSync(readFd, chunk));
    } catch {}
    return flushed;
  }, 10_000);
  try {
    received += chunk.toString("latin1", 0, readSync(readFd, chunk));
  } catch {}
  expect(errors).toEqual([]);
  const lines = received.split("\n").slice(0, -1);
  expect(lines.map((l) => Number(l.slice(0, 6)))).toEqual(Array.from({ length: total }, (_, i) => i));
  closeSync(writeFd);
  closeSync(readFd);
});

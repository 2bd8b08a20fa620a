// line-writer.ts in process, on real files: lines go out in batches, and a writer whose fd fails
// says so once and stops instead of throwing. On a real pipe (mkfifo): test/line-writer-fifo.test.ts.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { droppedLines, FLUSH_MS, lineWriter, MAX_BATCH } from "../../src/observe/line-writer.ts";
import { eventually } from "../helpers/eventually.ts";
import { strict } from "../helpers/line-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "pf-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  await eventually(() => readFileSync(path).length === MAX_BATCH, {
    what: "the batch in the file",
    timeoutMs: 2000,
    intervalMs: 2,
  });
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

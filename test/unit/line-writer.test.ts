// line-writer.ts in process, on a real file descriptor: lines go out in batches, and a writer
// whose fd fails says so once and stops instead of throwing into the request.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lineWriter, MAX_PENDING } from "../../src/observe/line-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "pf-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("lines wait in memory until flush(), then go out whole and in order", () => {
  const path = join(dir, "log");
  const fd = openSync(path, "w");
  const writer = lineWriter(fd, (err) => {
    throw err;
  });
  writer.write("one\n");
  writer.write("twö\n");
  expect(readFileSync(path, "utf8")).toBe("");
  writer.flush();
  expect(readFileSync(path, "utf8")).toBe("one\ntwö\n");
  writer.flush();
  expect(readFileSync(path, "utf8")).toBe("one\ntwö\n");
  closeSync(fd);
});

test("a batch that reaches MAX_PENDING goes out at once, without waiting for the timer", () => {
  const path = join(dir, "big");
  const fd = openSync(path, "w");
  const writer = lineWriter(fd, (err) => {
    throw err;
  });
  const line = `${"x".repeat(1023)}\n`;
  for (let i = 0; i < MAX_PENDING / line.length; i++) writer.write(line);
  expect(readFileSync(path).length).toBe(MAX_PENDING);
  closeSync(fd);
});

test("an fd that cannot be written: onError once, later lines dropped, nothing thrown", () => {
  const fd = openSync(join(dir, "log"), "r"); // read-only: write(2) fails with EBADF
  const errors: string[] = [];
  const writer = lineWriter(fd, (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
  writer.write("a\n");
  writer.flush();
  writer.write("b\n");
  writer.flush();
  expect(errors).toEqual(["EBADF"]);
  closeSync(fd);
});

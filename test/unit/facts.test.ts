// facts.txt's invariants, read from the file itself.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { facts, parseFacts } from "../../src/http/facts.ts";

const bytes = readFileSync(join(import.meta.dir, "../../facts.txt"));
const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
const lines = text.split("\n");

test("valid UTF-8, ending in exactly one newline", () => {
  expect(text.endsWith("\n")).toBe(true);
  expect(text.endsWith("\n\n")).toBe(false);
});

test("at least 150 facts, one per line, no blank lines, no stray whitespace", () => {
  const body = lines.slice(0, -1);
  expect(body.length).toBeGreaterThanOrEqual(150);
  for (const line of body) {
    expect(line.trim()).toBe(line);
    expect(line.length).toBeGreaterThan(0);
    expect(line).not.toMatch(/[\r\t]/);
  }
});

test("no duplicates", () => {
  const seen = new Set(lines.slice(0, -1).map((l) => l.toLowerCase()));
  expect(seen.size).toBe(lines.length - 1);
});

test("the service parses the same list, numbered from 1", () => {
  expect(facts.length).toBe(lines.length - 1);
  expect(facts[0]).toEqual({ id: 1, text: lines[0] });
  expect(facts.at(-1)?.id).toBe(facts.length);
});

test("a blank line is an error, not an empty fact", () => {
  expect(() => parseFacts("one\n\nthree\n")).toThrow("facts.txt line 2 is blank");
});

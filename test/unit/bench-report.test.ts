// The bench's statistics: what "no slower than before" is decided by.
import { describe, expect, test } from "bun:test";
import { medianInterval, pairedRatio, type Round } from "../../scripts/bench/report.ts";

describe("medianInterval", () => {
  test("12 values: the 3rd smallest to the 3rd largest (96% for a median)", () => {
    expect(medianInterval([12, 1, 11, 2, 10, 3, 9, 4, 8, 5, 7, 6])).toEqual([3, 10]);
  });

  test("too few values for 95%: the whole range", () => {
    expect(medianInterval([3, 1, 2, 4])).toEqual([1, 4]);
  });

  test("no values: nothing", () => {
    expect(medianInterval([])).toEqual([Number.NaN, Number.NaN]);
  });
});

test("pairedRatio pairs two variants within each round, then takes the median", () => {
  const round = (a: number, b: number): Round =>
    new Map([
      ["a", { rps: a }],
      ["b", { rps: b }],
    ]) as unknown as Round;
  expect(pairedRatio([round(10, 20), round(30, 10), round(20, 20)], "a", "b")).toBe(1);
});

// prometheus-text.ts in process: the exposition format's pieces, byte for byte.
import { expect, test } from "bun:test";
import {
  escapeLabelValue,
  formatValue,
  header,
  histogramLines,
  labelText,
  sampleLine,
  single,
} from "../../src/observe/prometheus-text.ts";

test("label values escape backslash, double quote and newline, nothing else", () => {
  expect(escapeLabelValue('a\\b"c\nd é')).toBe('a\\\\b\\"c\\nd é');
  expect(labelText({ method: "GET", route: "/x" })).toBe('method="GET",route="/x"');
});

test("values: numbers as JavaScript prints them; infinities and NaN as Prometheus spells them", () => {
  expect([0.0001, 1, 1e21, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN].map(formatValue)).toEqual([
    "0.0001",
    "1",
    "1e+21",
    "+Inf",
    "-Inf",
    "NaN",
  ]);
});

test("HELP escapes backslash and newline but not quotes; a sample without labels has no braces", () => {
  expect(header("x_total", "counter", 'a\\b\n"c"')).toBe('# HELP x_total a\\\\b\\n"c"\n# TYPE x_total counter\n');
  expect(sampleLine("x_total", "", 3)).toBe("x_total 3\n");
  expect(single("up", "gauge", "Up.", 1)).toBe("# HELP up Up.\n# TYPE up gauge\nup 1\n");
});

test("a histogram series: cumulative buckets with le last, +Inf, then _sum and _count", () => {
  expect(histogramLines("d", 'r="/"', ["0.1", "1"], [1, 2, 3], 4.5)).toBe(
    'd_bucket{r="/",le="0.1"} 1\nd_bucket{r="/",le="1"} 3\nd_bucket{r="/",le="+Inf"} 6\nd_sum{r="/"} 4.5\nd_count{r="/"} 6\n',
  );
  expect(histogramLines("d", "", ["1"], [0, 0], 0)).toBe(
    'd_bucket{le="1"} 0\nd_bucket{le="+Inf"} 0\nd_sum 0\nd_count 0\n',
  );
});

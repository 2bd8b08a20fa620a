// Prometheus's text exposition format, version 0.0.4: just the parts /metrics uses.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge" | "histogram";

/** A label value goes between double quotes, with backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

/** `name="value",...` in the order given: what goes between the braces of a sample. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(",");
}

/** A value as Prometheus parses it: numbers as JavaScript prints them, and +Inf, -Inf, NaN. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

/** A family's HELP and TYPE lines. HELP escapes backslash and newline (not quotes). */
export function header(name: string, type: MetricType, help: string): string {
  const escaped = help.replace(/[\\\n]/g, (ch) => (ch === "\n" ? "\\n" : "\\\\"));
  return `# HELP ${name} ${escaped}\n# TYPE ${name} ${type}\n`;
}

/** One sample line; `labels` is labelText's output, "" for none. */
export function sampleLine(name: string, labels: string, value: number): string {
  return `${name}${labels === "" ? "" : `{${labels}}`} ${formatValue(value)}\n`;
}

/** A family with a single unlabelled sample. */
export function single(name: string, type: MetricType, help: string, value: number): string {
  return header(name, type, help) + sampleLine(name, "", value);
}

/**
 * One histogram series: its cumulative _bucket lines (le last, after the series' own labels),
 * then _sum and _count. `counts[i]` holds the observations in bucket i alone (le[i-1] < v <=
 * le[i]); the last entry, past the highest bound, holds those that only +Inf takes.
 */
export function histogramLines(
  name: string,
  labels: string,
  le: readonly string[],
  counts: ArrayLike<number>,
  sum: number,
): string {
  const prefix = labels === "" ? "" : `${labels},`;
  let out = "";
  let cumulative = 0;
  for (let i = 0; i < le.length; i++) {
    cumulative += counts[i];
    out += `${name}_bucket{${prefix}le="${le[i]}"} ${cumulative}\n`;
  }
  cumulative += counts[le.length];
  out += `${name}_bucket{${prefix}le="+Inf"} ${cumulative}\n`;
  return out + sampleLine(`${name}_sum`, labels, sum) + sampleLine(`${name}_count`, labels, cumulative);
}

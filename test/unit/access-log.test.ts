// access-log.ts in process: the line each answered request gets, as text and as JSON.
import { expect, test } from "bun:test";
import type { Level } from "../../src/log.ts";
import { requestState } from "../../src/http/app.ts";
import { accessLog } from "../../src/observe/access-log.ts";
import type { RequestState } from "../../src/types.ts";

function logger(format: "text" | "json", enabled: (level: Level) => boolean = () => true) {
  const lines: string[] = [];
  const observe = accessLog({
    format,
    clientAddress: (headers) => headers.get("x-real-ip"),
    writer: { write: (line) => lines.push(line) },
    isEnabled: enabled,
  });
  // The request's state as the app makes it (its path is read there), with the test's own fields.
  const log = (request: Request, response: Response, duration: number, state: Partial<RequestState> = {}) =>
    observe(
      { ...requestState(request, { transport: "unix" }), requestId: "id-1", route: "/fact", ...state },
      response,
      duration,
    );
  return { lines, observe: log };
}
const sized = (body: string | null, status = 200) =>
  new Response(body, { status, headers: body === null ? {} : { "Content-Length": String(Buffer.byteLength(body)) } });

test("JSON: every field, the path still encoded and without its query, the time when the request arrived", () => {
  const { lines, observe } = logger("json");
  const before = Date.now();
  // It took 1.5 s: however slowly this test runs, the line's time is before it started.
  observe(new Request("http://x/a%20b/c?q=1", { headers: { "X-Real-IP": "192.0.2.10" } }), sized("héllo\n"), 1500.1234);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toEndWith("\n");
  const line = JSON.parse(lines[0]);
  expect(line).toEqual({
    time: line.time,
    method: "GET",
    path: "/a%20b/c",
    status: 200,
    bytes: 7,
    duration_ms: 1500.123,
    request_id: "id-1",
    client: "192.0.2.10",
  });
  expect(Date.parse(line.time)).toBeLessThanOrEqual(before);
  expect(lines[0]).toBe(`${JSON.stringify(line)}\n`);
});

test("duration_ms: to the microsecond, written as JSON writes the rounded number", () => {
  const { lines, observe } = logger("json");
  const durations = [0, 0.0004, 0.0015, 0.05, 0.1, 1, 12, 99.9999, 123.456, 1500.1234];
  for (const ms of durations) observe(new Request("http://x/fact"), sized("ok\n"), ms);
  const written = lines.map((line) => /"duration_ms":([^,]+),/.exec(line)?.[1]);
  expect(written).toEqual(durations.map((ms) => JSON.stringify(Math.round(ms * 1000) / 1000)));
});

test("text: logfmt, values with spaces or quotes quoted, no client as -", () => {
  const { lines, observe } = logger("text");
  observe(new Request("http://x/healthz"), sized("ok\n"), 0.5, { requestId: 'a "b"' });
  expect(lines[0]).toMatch(
    /^time=\S+Z method=GET path=\/healthz status=200 bytes=3 duration_ms=0\.5 request_id="a \\"b\\"" client=-\n$/,
  );
});

test("bytes: 0 for HEAD and for a response without a body", () => {
  const { lines, observe } = logger("json");
  observe(
    new Request("http://x/fact", { method: "HEAD" }),
    new Response(null, { headers: { "Content-Length": "42" } }),
    0,
  );
  observe(new Request("http://x/fact"), sized(null, 204), 0);
  expect(lines.map((l) => JSON.parse(l).bytes)).toEqual([0, 0]);
});

test("bytes: what the app says it sent (a prebuilt answer), else the response's Content-Length", () => {
  const { lines, observe } = logger("json");
  // No Content-Length on this response: 3 can only come from the state.
  observe(new Request("http://x/fact"), new Response("abc"), 0, { bytes: 3 });
  observe(new Request("http://x/fact"), sized("héllo\n"), 0);
  observe(new Request("http://x/fact", { method: "HEAD" }), sized(null), 0, { bytes: 7 });
  expect(lines.map((l) => JSON.parse(l).bytes)).toEqual([3, 7, 0]);
});

test("LOG_LEVEL: 5xx lines are errors, the rest info; a level that is off writes nothing", () => {
  const { lines, observe } = logger("json", (level) => level === "error");
  observe(new Request("http://x/fact"), sized("ok\n"), 0);
  observe(new Request("http://x/fact"), sized("boom\n", 500), 0);
  expect(lines.map((l) => JSON.parse(l).status)).toEqual([500]);
});

// app.ts in process, for what the route table decides: 405 and Allow, the metrics label, HEAD, and
// that the fast path and the way through Hono give the same answer. Routes one by one: routes.test.ts.
import { expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import type { RequestState } from "../../src/types.ts";
import { facts } from "../../src/http/facts.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import { favicon } from "../../src/http/static.ts";

function observed(options: Partial<Parameters<typeof createApp>[0]> = {}) {
  const seen: { method: string; route: string; status: number }[] = [];
  const app = createApp({
    facts,
    random: () => 0,
    maxBodyBytes: 1024,
    observers: [
      (exchange: RequestState, response: Response) =>
        seen.push({ method: exchange.method, route: exchange.route, status: response.status }),
    ],
    ...options,
  });
  return { app, seen };
}

/** Status, headers but the id, and body: what should match between two ways of answering. */
async function answer(res: Response) {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== "x-request-id"));
  return { status: res.status, headers, body: await res.text() };
}

test("each route is labelled by its pattern; a path no route has by /*", async () => {
  const { app, seen } = observed();
  for (const path of [
    "/fact",
    "/facts/3",
    "/facts/0",
    "/facts/x",
    "/",
    "/healthz",
    favicon.path,
    "/nope",
    "/facts/1/2",
  ])
    await app.request(path);
  expect(seen.map((s) => `${s.route} ${s.status}`)).toEqual([
    "/fact 200",
    "/facts/:id 200",
    "/facts/:id 404",
    "/facts/:id 400",
    "/ 200",
    "/healthz 200",
    `${favicon.path} 200`,
    "/* 404",
    "/* 404",
  ]);
});

test("a method a path does not take (405: routes.test.ts) is labelled by the route", async () => {
  const { app, seen } = observed();
  // (Not an unknown method such as BREW: Bun's Request constructor turns it into GET.)
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) await app.request("/facts/7", { method });
  expect(seen.map((s) => `${s.route} ${s.status}`)).toEqual(Array(5).fill("/facts/:id 405"));
});

test("/metrics is a route only when the app serves it", async () => {
  const metrics = createMetrics({ version: "1", runtime: "test" });
  expect((await observed({ metrics: metrics.serve }).app.request("/metrics")).status).toBe(200);
  expect((await observed({ metrics: metrics.serve }).app.request("/metrics", { method: "POST" })).status).toBe(405);
  expect((await observed().app.request("/metrics")).status).toBe(404);
});

test.each(["/fact", "/facts/1", "/", "/healthz", "/nope", "/facts/abc", favicon.path])(
  "HEAD %s: GET's status and headers, GET's Content-Length, no body",
  async (path) => {
    const { app } = observed();
    const get = await answer(await app.request(path));
    const head = await answer(await app.request(path, { method: "HEAD" }));
    expect(head.status).toBe(get.status);
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(get.body)));
    expect(head.body).toBe("");
    // A prebuilt GET leaves its Content-Length to the runtime (test/parity.test.ts checks the wire);
    // the page's changes with the fact.
    const lengthless = ({ "content-length": _, ...rest }: Record<string, string>) => rest;
    if (path !== "/") expect(lengthless(head.headers)).toEqual(lengthless(get.headers));
  },
);

test.each(["/fact", "/healthz", favicon.path])(
  "%s answers the same past Hono (no body) and through it (a small body)",
  async (path) => {
    const { app } = observed();
    for (const accept of [undefined, "application/json", "text/plain;q=0.1, application/json"]) {
      const headers: Record<string, string> = accept ? { Accept: accept } : {};
      const fast = await answer(await app.request(path, { headers }));
      const viaHono = await answer(
        await app.request(path, { method: "GET", headers: { ...headers, "Content-Length": "2" }, body: "hi" }),
      );
      expect(viaHono).toEqual(fast);
    }
  },
);

test("a body over MAX_BODY is 413 before routing decides 404 or 405", async () => {
  const { app } = observed();
  for (const path of ["/fact", "/nope"]) {
    const res = await app.request(path, {
      method: "POST",
      body: "x".repeat(2000),
      headers: { "Content-Length": "2000" },
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  }
});

test("facts served counts bodies sent: GET /fact, /facts/:id and / count, HEAD does not", async () => {
  let served = 0;
  const { app } = observed({ onFactServed: () => served++ });
  for (const path of ["/fact", "/facts/2", "/"]) {
    await app.request(path);
    await app.request(path, { method: "HEAD" });
  }
  await app.request("/facts/0");
  expect(served).toBe(3);
});

test("a route that throws: 500 naming the request id, reported to the logger given, secure headers on", async () => {
  const errors: string[] = [];
  const log = { info: () => {}, warn: () => {}, error: (m: string) => errors.push(m) };
  const { app, seen } = observed({
    log,
    routes: [
      {
        method: "GET",
        path: "/boom",
        handler: () => {
          throw new Error("on purpose");
        },
      },
    ],
  });
  const res = await app.request("/boom", { headers: { "X-Request-Id": "req-9" } });
  expect(res.status).toBe(500);
  expect(await res.text()).toBe("internal error; request id req-9\n");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(errors).toHaveLength(1);
  expect(errors[0]).toStartWith("request req-9 GET /boom failed: Error: on purpose");
  expect(seen).toEqual([{ method: "GET", route: "/boom", status: 500 }]);
});

// fast-path.ts in process: its one rule, case by case.
import { expect, test } from "bun:test";
import { type Route, requestState } from "../../src/http/app.ts";
import { fastPath } from "../../src/http/fast-path.ts";
import { prebuilt } from "../../src/http/headers.ts";
import type { RequestState } from "../../src/types.ts";

const answer = prebuilt("hi\n", { "Content-Type": "text/plain" });
const routes: Route[] = [
  { method: "GET", path: "/hi", prebuilt: () => answer },
  { method: "GET", path: "/p/:id", prebuilt: () => answer },
  { method: "GET", path: "/h", handler: (c) => c.text("h") },
  { method: "POST", path: "/post", prebuilt: () => answer },
];
const fast = fastPath(routes);

function tryFast(path: string, init: RequestInit = {}) {
  const request = new Request(`http://x${path}`, init);
  const exchange: RequestState = { ...requestState(request, { transport: "unix" }), requestId: "id" };
  return { response: fast(request, exchange), exchange };
}

test("a GET or HEAD without a Content-Length for a prebuilt route's exact path is answered, and labelled", async () => {
  const get = tryFast("/hi?x=1");
  expect(await get.response?.text()).toBe("hi\n");
  expect(get.response?.headers.get("x-request-id")).toBe("id");
  expect(get.exchange.route).toBe("/hi");
  expect(get.exchange.bytes).toBe(3);
  const head = tryFast("/hi", { method: "HEAD" });
  expect(head.response?.headers.get("content-length")).toBe("3");
  expect(await head.response?.text()).toBe("");
});

test("a percent-encoded path is read as Hono reads it: /h%69 is /hi", async () => {
  const encoded = tryFast("/h%69");
  expect(await encoded.response?.text()).toBe("hi\n");
  expect(encoded.exchange.route).toBe("/hi");
});

test("a chunked GET is answered too: its body never reaches the app and states no length for MAX_BODY", async () => {
  const chunked = tryFast("/hi", { headers: { "Transfer-Encoding": "chunked" } });
  expect(await chunked.response?.text()).toBe("hi\n");
});

test("anything else is left to Hono", () => {
  for (const [path, init] of [
    ["/hi", { method: "POST" }],
    ["/hi", { method: "GET", headers: { "Content-Length": "0" } }],
    ["/hi/", {}],
    ["/HI", {}],
    ["/p/1", {}],
    ["/p/:id", {}],
    ["/h", {}],
    ["/post", {}],
  ] as const) {
    const { response, exchange } = tryFast(path, init);
    expect(response).toBeUndefined();
    expect(exchange.route).toBe("/*");
  }
});

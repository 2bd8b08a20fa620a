// headers.ts: the secure headers written out are Hono's, the prebuilt answers are complete.
import { expect, test } from "bun:test";
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import {
  hasBody,
  prebuilt,
  prebuiltKind,
  prebuiltResponse,
  requestIdFor,
  SECURE_HEADER_OPTIONS,
  SECURE_HEADERS,
} from "../../src/http/headers.ts";

test("SECURE_HEADERS is what Hono's secureHeaders sets with SECURE_HEADER_OPTIONS", async () => {
  const probe = new Hono().use(secureHeaders(SECURE_HEADER_OPTIONS)).get("/", (c) => c.body(null));
  expect([...(await probe.request("/")).headers]).toEqual(SECURE_HEADERS.map(([name, value]) => [name, value]));
});

test("a prebuilt answer carries the secure headers and the id; its length is the runtime's to state, HEAD's ours", async () => {
  const answer = prebuilt("é\n", { "Content-Type": "text/plain; charset=utf-8" });
  expect(answer.bytes).toBe(3);
  const get = prebuiltResponse(answer, "id-1");
  // Every runtime states a string body's length itself (test/parity.test.ts sees it on the wire).
  expect(get.headers.get("content-length")).toBeNull();
  expect(get.headers.get("x-request-id")).toBe("id-1");
  for (const [name, value] of SECURE_HEADERS) expect(get.headers.get(name)).toBe(value);
  expect(await get.text()).toBe("é\n");
  const head = prebuiltResponse(answer, "id-2", true);
  expect(head.headers.get("content-length")).toBe("3");
  expect(await head.text()).toBe("");
});

test("the answers of one kind share one set of headers, which no response changes", async () => {
  const kind = prebuiltKind({ Vary: "Accept" });
  const [a, b] = [kind("a\n"), kind("bb\n")];
  expect(a.headers).toBe(b.headers);
  prebuiltResponse(a, "id-1").headers.set("X-Extra", "1");
  prebuiltResponse(b, "id-2", true);
  expect([...(a.headers ?? [])]).toEqual([...new Headers(a.fields)]);
  expect(a.fields).not.toHaveProperty("X-Request-Id");
});

test("either form of a prebuilt answer, Headers (Bun, Node) or a Response to clone (Deno), answers the same", async () => {
  const answer = async (res: Response) => ({
    headers: [...res.headers].filter(([n]) => n !== "content-length"),
    body: await res.text(),
  });
  const [copied, cloned] = (["headers", "template"] as const).map((form) => prebuilt("é\n", { Vary: "Accept" }, form));
  for (const head of [false, true]) {
    const expected = await answer(prebuiltResponse(copied, "id-1", head));
    expect(await answer(prebuiltResponse(cloned, "id-1", head))).toEqual(expected);
  }
});

test("request ids: a short plain incoming one is kept, anything else replaced by a UUID", () => {
  expect(requestIdFor("nginx-abc_123=")).toBe("nginx-abc_123=");
  for (const bad of [null, "", "bad id", "a/b", "x".repeat(256)]) expect(requestIdFor(bad)).toMatch(/^[0-9a-f-]{36}$/);
  expect(requestIdFor("x".repeat(255))).toBe("x".repeat(255));
});

test("a request has a body when it says so with Content-Length or Transfer-Encoding", () => {
  expect(hasBody(new Headers())).toBe(false);
  expect(hasBody(new Headers({ "Content-Length": "0" }))).toBe(true);
  expect(hasBody(new Headers({ "Transfer-Encoding": "chunked" }))).toBe(true);
});

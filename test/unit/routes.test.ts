// The HTTP behaviour, route by route, through app.request(): no server, no runtime. HEAD on every
// route: app.test.ts.
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/http/app.ts";
import { facts } from "../../src/http/facts.ts";
import { favicon, stylesheet } from "../../src/http/static.ts";

const app = createApp({ facts });
const first = createApp({ facts, random: () => 0 });
const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  app.request(path, { method, headers });

describe("GET /fact", () => {
  test("one fact as text, ending in a newline", async () => {
    const res = await first.request("/fact");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe(`${facts[0].text}\n`);
  });

  test("JSON with Accept: application/json", async () => {
    const res = await first.request("/fact", { headers: { Accept: "application/json" } });
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("vary")).toBe("Accept");
    expect(await res.json()).toEqual({ id: 1, fact: facts[0].text });
  });

  test("text when text is preferred, JSON when JSON is", async () => {
    const pref = async (accept: string) => (await get("/fact", { Accept: accept })).headers.get("content-type");
    expect(await pref("text/plain, application/json;q=0.5")).toStartWith("text/plain");
    expect(await pref("text/plain;q=0.1, application/json")).toStartWith("application/json");
    expect(await pref("*/*")).toStartWith("text/plain");
    expect(await pref("text/html,application/xhtml+xml,*/*;q=0.8")).toStartWith("text/plain");
  });

  test("every fact can come up: the choice spans the whole list", async () => {
    const last = createApp({ facts, random: () => 0.999999 });
    expect(await (await last.request("/fact")).text()).toBe(`${facts[facts.length - 1].text}\n`);
  });

  test("the choice is uniform: each fact owns an equal slice of [0, 1)", async () => {
    const n = facts.length;
    for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
      for (const r of [i / n, (i + 0.5) / n, (i + 1) / n - 1e-9]) {
        const picked = createApp({ facts, random: () => r });
        expect(await (await picked.request("/fact")).text()).toBe(`${facts[i].text}\n`);
      }
    }
  });
});

describe("GET /facts/{id}", () => {
  test("that fact, as text or JSON", async () => {
    expect(await (await get("/facts/2")).text()).toBe(`${facts[1].text}\n`);
    expect(await (await get("/facts/2", { Accept: "application/json" })).json()).toEqual({
      id: 2,
      fact: facts[1].text,
    });
    expect((await get(`/facts/${facts.length}`)).status).toBe(200);
  });

  test.each(["abc", "1.5", "-1", "1e3", "0x10", "%20", "12345678901234"])(
    "%p is not a whole number: 400",
    async (id) => {
      const res = await get(`/facts/${id}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toBe("a fact id is a whole number, such as /facts/1\n");
    },
  );

  test.each([0, facts.length + 1, 999999])("%p is out of range: 404", async (id) => {
    const res = await get(`/facts/${id}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(`no fact #${id}; ids run from 1 to ${facts.length}\n`);
  });
});

describe("GET /", () => {
  test("an HTML page with a fact, a link to another, and the embedded stylesheet", async () => {
    const res = await first.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await res.text();
    expect(page).toContain("<title>Printer Facts</title>");
    expect(page).toContain("<h1>Printer Facts</h1>");
    expect(page).toContain(facts[0].text);
    expect(page).toContain('<a class="button" href="/">Another fact</a>');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).toContain(`<link rel="stylesheet" href="${stylesheet.path}">`);
    // No external resources: every src/href is a local path.
    for (const [, url] of page.matchAll(/(?:href|src)="([^"]*)"/g)) expect(url).toStartWith("/");
  });

  test("a CSP that allows only its own stylesheet and icon, and no HSTS from the backend", async () => {
    const res = await get("/");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(res.headers.get("strict-transport-security")).toBeNull();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("static assets", () => {
  test.each([stylesheet, favicon])("$path is served with long-lived cache headers", async (asset) => {
    expect(asset.path).toMatch(/^\/static\/\w+\.[0-9a-f]{8}\.\w+$/);
    const res = await get(asset.path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(asset.contentType);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await res.text()).toBe(asset.body);
  });

  test("an old or unknown asset name is 404", async () => {
    expect((await get("/static/style.css")).status).toBe(404);
  });
});

describe("GET /healthz", () => {
  test("200 ok", async () => {
    const res = await get("/healthz");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");
  });
});

describe("anything else", () => {
  test("404 in plain text for non-browsers", async () => {
    const res = await get("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    expect(await res.text()).toBe("not found\n");
  });

  test("404 as an HTML page for browsers, with the path escaped", async () => {
    const res = await get("/<b>nope</b>", { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await res.text();
    expect(page).toContain("<h1>Not found</h1>");
    expect(page).toContain("&lt;b&gt;nope&lt;/b&gt;");
    expect(page).not.toContain("<b>nope</b>");
  });

  test.each([
    ["POST", "/fact"],
    ["PUT", "/facts/1"],
    ["DELETE", "/"],
    ["PATCH", "/healthz"],
    ["OPTIONS", "/fact"],
    ["POST", stylesheet.path],
  ])("%s %s: 405 with Allow", async (method, path) => {
    const res = await get(path, {}, method);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(await res.text()).toBe("method not allowed\n");
  });

  test("POST to an unknown path is 404, not 405", async () => {
    expect((await get("/nope", {}, "POST")).status).toBe(404);
  });

  test("the same for requests with a body, which go through the MAX_BODY check first; the route is named", async () => {
    const routes: string[] = [];
    const limited = createApp({
      facts,
      maxBodyBytes: 1024,
      observers: [(exchange) => routes.push(exchange.route)],
    });
    const send = (method: string, path: string) =>
      limited.request(path, { method, body: "abc", headers: { "Content-Length": "3" } });
    expect((await send("POST", "/nope")).status).toBe(404);
    expect((await send("PUT", "/facts/1")).status).toBe(405);
    expect(routes).toEqual(["/*", "/facts/:id"]);
  });
});

describe("request id", () => {
  test("each response carries one; a well-formed incoming one is kept", async () => {
    const a = (await get("/fact")).headers.get("x-request-id");
    const b = (await get("/fact")).headers.get("x-request-id");
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect((await get("/fact", { "X-Request-Id": "nginx-abc123" })).headers.get("x-request-id")).toBe("nginx-abc123");
    expect((await get("/fact", { "X-Request-Id": "bad id!" })).headers.get("x-request-id")).not.toBe("bad id!");
  });
});

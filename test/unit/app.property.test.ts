// Property: whatever path, method, headers, Accept value or body a client sends, the app answers
// below 500, with a request id, and never throws. fast-check shrinks any failure to a small case.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { createApp } from "../../src/http/app.ts";
import { facts } from "../../src/http/facts.ts";
import { assets } from "../../src/http/static.ts";

const app = createApp({ facts, maxBodyBytes: 1024 });

const known = ["", "fact", "facts", "healthz", "static", ...assets.map((a) => a.path.slice(1))];
const segment = fc.oneof(
  fc.constantFrom(
    ...known,
    "1",
    "0",
    "-1",
    "999999999",
    "1e3",
    "0x1",
    "..",
    ".",
    "%",
    "%zz",
    "%E0%A4%A",
    "%00",
    "%2F",
    "%252F",
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.stringMatching(/^[\w.~%-]{0,12}$/),
);
const path = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.option(fc.stringMatching(/^[\w=&%.-]{0,16}$/)))
  .map(([segments, query]) => `/${segments.join("/")}${query === null ? "" : `?${query}`}`);

const method = fc.oneof(
  fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"),
  fc.stringMatching(/^[A-Z]{1,10}$/),
);

const mediaRange = fc.oneof(
  fc.constantFrom(
    "*/*",
    "text/*",
    "text/plain",
    "text/html",
    "application/json",
    "application/*",
    "image/png",
    "",
    "json",
    "html",
  ),
  fc.stringMatching(/^[\w*+.-]{0,10}\/?[\w*+.-]{0,10}$/),
);
const param = fc.oneof(
  fc.constantFrom(";q=0", ";q=1", ";q=0.5", ";q=2", ";q=-1", ";q=abc", ";q=", ";", ";charset=utf-8", ";;"),
  fc.stringMatching(/^;[\w=. ]{0,8}$/),
);
const accept = fc
  .array(
    fc.tuple(mediaRange, fc.array(param, { maxLength: 2 })).map(([r, p]) => r + p.join("")),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(", "));

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim());
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 5 });
const body = fc.option(fc.oneof(fc.string({ maxLength: 64 }), fc.constant("x".repeat(2000))));

test("no request makes the app answer 5xx or throw", async () => {
  await fc.assert(
    fc.asyncProperty(
      path,
      method,
      headers,
      fc.option(accept),
      fc.option(fc.stringMatching(/^[\w-]{0,40}$/)),
      body,
      async (p, m, h, a, id, b) => {
        const init: RequestInit = {
          method: m,
          headers: { ...h, ...(a === null ? {} : { Accept: a }), ...(id === null ? {} : { "X-Request-Id": id }) },
        };
        if (b !== null && m !== "GET" && m !== "HEAD") init.body = b;
        const res = await app.request(`http://x${p}`, init);
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get("x-request-id")).toBeTruthy();
        await res.arrayBuffer();
      },
    ),
    { numRuns: 2000 },
  );
});

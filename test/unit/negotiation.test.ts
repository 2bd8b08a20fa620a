// Property: for any Accept header, the app picks JSON (/fact) and the HTML 404 page exactly where
// Hono's accepts() would, given the same choices, so app.ts's prefers() keeps Hono's rule. Except by
// design: a header that does not name the subtype at all ("json", "html") is not read, and gets text.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { Hono } from "hono";
import { accepts } from "hono/accepts";
import { createApp } from "../../src/http/app.ts";
import { facts } from "../../src/http/facts.ts";

const app = createApp({ facts });
const hono = new Hono().get("/:type/:subtype", (c) => {
  const type = `${c.req.param("type")}/${c.req.param("subtype")}`;
  return c.text(accepts(c, { header: "Accept", supports: ["text/plain", type], default: "text/plain" }));
});
const honoPicks = async (accept: string, type: string) =>
  accept.includes(type.split("/")[1]) &&
  (await (await hono.request(`/${type}`, { headers: { Accept: accept } })).text()) === type;

const range = fc.oneof(
  fc.constantFrom(
    "*/*",
    "*",
    "text/*",
    "TEXT/*",
    "text/plain",
    "Text/Plain",
    "text/html",
    "application/json",
    "APPLICATION/JSON",
    "application/*",
    "image/*",
    "json",
    "html",
    "",
  ),
  fc.stringMatching(/^[\w*+.-]{0,8}\/?[\w*+.-]{0,8}$/),
);
const param = fc.constantFrom(";q=0", ";q=1", ";q=0.5", ";q=0.50", ";q=2", ";q=-1", ";q=abc", ";q=", ";", ";level=1");
const accept = fc
  .array(
    fc.tuple(range, fc.array(param, { maxLength: 2 })).map(([r, p]) => r + p.join("")),
    { minLength: 1, maxLength: 5 },
  )
  .map((parts) => parts.join(fc.sample(fc.constantFrom(",", ", ", " ,"), 1)[0]));

test("JSON for /fact and HTML for a 404 exactly where Hono's accepts() picks them", async () => {
  await fc.assert(
    fc.asyncProperty(accept, async (value) => {
      const fact = (await app.request("/fact", { headers: { Accept: value } })).headers.get("content-type");
      const json = await honoPicks(value, "application/json");
      expect(fact?.startsWith("application/json")).toBe(json);
      const missing = (await app.request("/nope", { headers: { Accept: value } })).headers.get("content-type");
      const html = await honoPicks(value, "text/html");
      expect(missing?.startsWith("text/html")).toBe(html);
    }),
    { numRuns: 3000 },
  );
});

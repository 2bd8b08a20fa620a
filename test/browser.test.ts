// A real browser through the real nginx: Debian's Chromium, headless, driven by playwright-core,
// loads / over HTTPS from the shipped site in front of the compiled binary. What a person would
// see: the fact, the stylesheet applied, and nothing in the console, CSP violations included.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { freePort, selfSignedCert, startNginx } from "./helpers/nginx.ts";
import { BINARY, startListening, tempDir } from "./helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const dir = tempDir();
const stops: Array<() => unknown> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  dir.cleanup();
});

test("Chromium loads / through nginx: fact visible, stylesheet applied, no console errors, no CSP violations", async () => {
  const sock = join(dir.path, "pf.sock");
  const service = await startListening([BINARY], { SOCKPATH: sock, SOCKGROUP: "nogroup" });
  stops.push(() => service.kill("SIGKILL"));
  const prefix = join(dir.path, "nginx");
  mkdirSync(prefix);
  const httpsPort = await freePort();
  const nginx = await startNginx(prefix, {
    sockets: [sock],
    httpPort: await freePort(),
    httpsPort,
    cert: selfSignedCert(dir.path),
  });
  stops.push(() => nginx.stop());

  const context = await chromium.launchPersistentContext(join(dir.path, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    ignoreHTTPSErrors: true, // the test's self-signed certificate
    colorScheme: "light",
  });
  stops.push(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // Runs through the DevTools protocol, which the page's CSP does not govern.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  const response = await page.goto(`https://127.0.0.1:${httpsPort}/`, { waitUntil: "load" });
  expect(response?.status()).toBe(200);
  expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");

  const fact = page.locator("#fact blockquote p");
  expect(await fact.isVisible()).toBe(true);
  expect((await fact.textContent())?.length ?? 0).toBeGreaterThan(10);

  // Values only the stylesheet gives: the fact's accent border and the body's flex layout.
  const style = await page.evaluate(() => {
    const fig = getComputedStyle(document.querySelector("#fact") as Element);
    const body = getComputedStyle(document.body);
    return {
      borderStyle: fig.borderLeftStyle,
      borderColor: fig.borderLeftColor,
      display: body.display,
      margin: body.marginTop,
    };
  });
  expect(style).toEqual({ borderStyle: "solid", borderColor: "rgb(11, 110, 138)", display: "flex", margin: "0px" });

  // Let late reports (the icon, CSP events) arrive before judging.
  await page.waitForLoadState("networkidle");
  expect(await page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  expect(problems).toEqual([]);
}, 60_000);

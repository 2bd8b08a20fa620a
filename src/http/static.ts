// Static assets are embedded at build time and served under content-hashed names, so browsers
// and nginx may cache them forever: a new build changes the name.
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };

export interface Asset {
  path: string;
  body: string;
  contentType: string;
}

/** WebCrypto's SHA-256 rather than node:crypto's, which costs Bun milliseconds and megabytes to load. */
async function asset(name: string, ext: string, body: string, contentType: string): Promise<Asset> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const hash = Buffer.from(digest).toString("hex").slice(0, 10);
  return { path: `/static/${name}.${hash}.${ext}`, body, contentType };
}

export const stylesheet = await asset("style", "css", styleCss, "text/css; charset=utf-8");
export const favicon = await asset("favicon", "svg", faviconSvg, "image/svg+xml");
export const assets: readonly Asset[] = [stylesheet, favicon];

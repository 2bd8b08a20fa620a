// Static assets are embedded at build time and served under content-hashed names, so browsers
// and nginx may cache them forever: a new build changes the name.
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };

export interface Asset {
  path: string;
  body: string;
  contentType: string;
}

// Web Crypto rather than node:crypto, which costs Bun about 5 MB of idle memory to load.
async function asset(name: string, ext: string, body: string, contentType: string): Promise<Asset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
  const hash = Array.from(digest.subarray(0, 5), (b) => b.toString(16).padStart(2, "0")).join("");
  return { path: `/static/${name}.${hash}.${ext}`, body, contentType };
}

export const stylesheet = await asset("style", "css", styleCss, "text/css; charset=utf-8");
export const favicon = await asset("favicon", "svg", faviconSvg, "image/svg+xml");
export const assets: readonly Asset[] = [stylesheet, favicon];

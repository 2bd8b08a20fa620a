// Static assets are embedded at build time and served under content-hashed names, so browsers
// and nginx may cache them forever: a new build changes the name.
import { createHash } from "node:crypto";
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };

export interface Asset {
  path: string;
  body: string;
  contentType: string;
}

function asset(name: string, ext: string, body: string, contentType: string): Asset {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  return { path: `/static/${name}.${hash}.${ext}`, body, contentType };
}

export const stylesheet = asset("style", "css", styleCss, "text/css; charset=utf-8");
export const favicon = asset("favicon", "svg", faviconSvg, "image/svg+xml");
export const assets: readonly Asset[] = [stylesheet, favicon];

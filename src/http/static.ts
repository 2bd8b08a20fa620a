// Static assets are embedded at build time and served under content-hashed names, so browsers
// and nginx may cache them forever: a new build changes the name.
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import styleCss from "./static/style.css" with { type: "text" };
import { fnv1a } from "../hash.ts";

export interface Asset {
  path: string;
  body: string;
  contentType: string;
}

function asset(name: string, ext: string, body: string, contentType: string): Asset {
  return { path: `/static/${name}.${fnv1a(body)}.${ext}`, body, contentType };
}

export const stylesheet = asset("style", "css", styleCss, "text/css; charset=utf-8");
export const favicon = asset("favicon", "svg", faviconSvg, "image/svg+xml");
export const assets: readonly Asset[] = [stylesheet, favicon];

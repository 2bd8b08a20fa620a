// The HTML the service renders: the index page and the browsers' 404 page. No script and no
// external resource, so the page's CSP can stay at 'self'.
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Fact } from "./facts.ts";
import { favicon, stylesheet } from "./static.ts";

function layout(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${stylesheet.path}">
<link rel="icon" href="${favicon.path}" type="image/svg+xml">
</head>
<body>
<main>
${body}
</main>
<footer class="site-footer">Also as plain text: <code>curl /fact</code> · <a href="/fact">/fact</a></footer>
</body>
</html>
`;
}

export function indexPage(fact: Fact) {
  return layout(
    "Printer Facts",
    html`<h1>Printer Facts</h1>
<figure class="fact" id="fact">
<blockquote><p>${fact.text}</p></blockquote>
<footer>Fact <a href="/facts/${fact.id}">#${fact.id}</a></footer>
</figure>
<p><a class="button" href="/">Another fact</a></p>`,
  );
}

export function notFoundPage(path: string) {
  return layout(
    "Not found · Printer Facts",
    html`<h1>Not found</h1>
<p>There is nothing at <code>${path}</code>. The printer looked everywhere, including tray 2.</p>
<p><a class="button" href="/">Get a printer fact</a></p>`,
  );
}

// The equal-work ceiling: a raw Bun.serve (or, run by Deno, a raw Deno.serve) doing the work of
// work.ts and nothing else. printerfacts on each runtime is measured against it. Every path is
// answered as /fact.
import { finishRequest, loadWork, pick, requestId } from "./work.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const onBun = typeof Bun !== "undefined";
// CEILING_LOG=off: the same but the log line, for what the line itself costs.
const log = process.env.CEILING_LOG !== "off";
// Each runtime builds a Response fastest from its own form, as src/http/headers.ts does: on Bun a
// copy of one Headers that every answer shares (Bun states each body's Content-Length), on Deno a
// clone of the whole answer.
const work = loadWork();
const { "Content-Length": _, ...common } = work[0].fields;
const shared = new Headers(common);
const answers = work.map((a) => ({
  ...a,
  headers: shared,
  template: onBun ? undefined : new Response(a.body, { headers: a.fields }),
}));

function handle(request: Request): Response {
  const started = performance.now();
  const headers = request.headers;
  const id = requestId(headers.get("x-request-id"));
  const answer = pick(answers);
  const response = answer.template?.clone() ?? new Response(answer.body, { headers: answer.headers });
  response.headers.set("X-Request-Id", id);
  const client = headers.get("x-real-ip") ?? headers.get("x-forwarded-for");
  finishRequest(request.method, request.url, answer.bytes, started, id, client, log);
  return response;
}

declare const Deno: {
  serve(
    options: { path: string; transport: "unix"; onListen?: () => void },
    handler: (request: Request) => Response,
  ): unknown;
};
if (onBun) {
  const server = Bun.serve({ unix: path, fetch: handle });
  process.on("SIGTERM", () => {
    server.stop(true);
    process.exit(0);
  });
} else {
  Deno.serve({ path, transport: "unix", onListen: () => {} }, handle);
  process.on("SIGTERM", () => process.exit(0));
}

// The one shortcut past Hono. Its rule: a GET or HEAD request without a Content-Length, whose path
// is exactly that of a route with a prebuilt answer, gets that answer without Hono. Everything
// else, and the same routes when the rule does not hold, goes through Hono (app.ts) and answers
// the same.
import { getPath } from "hono/utils/url";
import type { RequestState } from "../types.ts";
import type { Route } from "./app.ts";
import { answerTo } from "./headers.ts";

export type FastPath = (request: Request, state: RequestState) => Response | undefined;

export function fastPath(routes: readonly Route[]): FastPath {
  // Plain paths only: a pattern with parameters (:id, *) is left to Hono's router.
  const plain = routes.filter((r) => r.method === "GET" && r.prebuilt !== undefined && !/[:*]/.test(r.path));
  const byPath = new Map(plain.map((r) => [r.path, r.prebuilt] as const));
  return (request, state) => {
    if (state.method !== "GET" && !state.head) return undefined;
    // A GET or HEAD body never reaches the app (Request.body is null on every runtime), so only
    // a stated length can change the answer: MAX_BODY's 413. A chunked one states none.
    if (state.headers.has("content-length")) return undefined;
    // Hono's own reading of the path, so both ways agree on it: getPath() decodes a path with a
    // '%' and otherwise gives the raw path, which the state holds already.
    const path = state.encoded ? getPath(request) : state.path;
    const answer = byPath.get(path);
    if (answer === undefined) return undefined;
    state.route = path;
    return answerTo(state, answer(state));
  };
}

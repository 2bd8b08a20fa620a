// A peer for the benchmark: Elysia on Bun doing the work of ../work.ts for GET /fact.
import { Elysia } from "elysia";
import { countRequest, loadWork, logRequest, pick, requestId } from "../work.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const answers = loadWork();

const app = new Elysia().get("/fact", ({ request, set }) => {
  const started = performance.now();
  const id = requestId(request.headers.get("x-request-id"));
  const answer = pick(answers);
  Object.assign(set.headers, answer.fields);
  set.headers["x-request-id"] = id;
  const duration = performance.now() - started;
  countRequest(request.method, "/fact", 200, duration / 1000);
  logRequest(
    request.method,
    request.url,
    answer.bytes,
    duration,
    id,
    request.headers.get("x-real-ip") ?? request.headers.get("x-forwarded-for"),
  );
  return answer.body;
});

app.listen({ unix: path } as unknown as Parameters<typeof app.listen>[0]);
process.on("SIGTERM", () => {
  void app.stop(true);
  process.exit(0);
});

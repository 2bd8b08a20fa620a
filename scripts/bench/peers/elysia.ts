// A peer for the benchmark: Elysia on Bun doing the work of ../work.ts for GET /fact.
import { Elysia } from "elysia";
import { finishRequest, loadWork, pick, requestId } from "../work.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const answers = loadWork();

const app = new Elysia().get("/fact", ({ request, set }) => {
  const started = performance.now();
  const id = requestId(request.headers.get("x-request-id"));
  const answer = pick(answers);
  Object.assign(set.headers, answer.fields);
  set.headers["x-request-id"] = id;
  const client = request.headers.get("x-real-ip") ?? request.headers.get("x-forwarded-for");
  finishRequest(request.method, request.url, answer.bytes, started, id, client);
  return answer.body;
});

app.listen({ unix: path } as unknown as Parameters<typeof app.listen>[0]);
process.on("SIGTERM", () => {
  void app.stop(true);
  process.exit(0);
});

// A peer for the benchmark: Fastify on Node doing the work of ../work.ts for GET /fact. The bench
// bundles this for Node (bun build --target=node) and runs it with node.
import Fastify from "fastify";
import { finishRequest, loadWork, pick, requestId } from "../work.ts";

const path = process.env.SOCKPATH;
if (!path) throw new Error("SOCKPATH is required");
const answers = loadWork();
const app = Fastify({
  logger: false,
  requestIdHeader: false,
  genReqId: (req) => requestId(req.headers["x-request-id"] as string | undefined),
});

app.get("/fact", (req, reply) => {
  const started = performance.now();
  const answer = pick(answers);
  reply.headers(answer.fields).header("X-Request-Id", req.id).send(answer.body);
  const client = req.headers["x-real-ip"] ?? req.headers["x-forwarded-for"];
  finishRequest(
    req.method,
    `http://x${req.url}`,
    answer.bytes,
    started,
    req.id,
    typeof client === "string" ? client : null,
  );
});

await app.listen({ path });
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));

// The same answer: a row that claims printerfacts' work must send what printerfacts sends for
// GET /fact (one fact, its headers, the right Content-Length, a fresh request id each time).
import { readFileSync } from "node:fs";
import type { Work } from "./work.ts";

/** What each response or the transport adds, left out of the comparison. */
const TRANSPORT = new Set(["date", "x-request-id", "content-length", "connection", "keep-alive"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Name: value lines, lower-case names, sorted, without what each response or transport adds. */
const canon = (pairs: Iterable<[string, string]>) =>
  [...pairs]
    .map(([k, v]) => `${k.toLowerCase()}: ${v}`)
    .filter((l) => !TRANSPORT.has(l.slice(0, l.indexOf(":"))))
    .sort()
    .join("\n");

/** How the server on this socket answers /fact otherwise than printerfacts (WORK_FILE) does; [] if it does not. */
export async function sameWorkProblems(socket: string, workFile: string): Promise<string[]> {
  const work = JSON.parse(readFileSync(workFile, "utf8")) as Work;
  const expected = canon(work.headers);
  const bodies = new Set(work.facts.map((f) => `${f}\n`));
  const problems: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch("http://localhost/fact", { unix: socket });
    const body = await res.text();
    const got = canon(res.headers);
    if (res.status !== 200) problems.push(`status ${res.status}`);
    if (!bodies.has(body)) problems.push(`a body that is not one fact: ${JSON.stringify(body.slice(0, 60))}`);
    if (res.headers.get("content-length") !== String(Buffer.byteLength(body)))
      problems.push(`Content-Length ${res.headers.get("content-length")}`);
    if (got !== expected) problems.push(`headers ${JSON.stringify(got)}`);
    ids.push(res.headers.get("x-request-id") ?? "");
  }
  if (!ids.every((id) => UUID.test(id)) || ids[0] === ids[1]) problems.push(`request ids ${ids.join(", ")}`);
  return [...new Set(problems)];
}

// npm run image: the container image (deploy/container/Containerfile) with podman or docker,
// whichever is on PATH (podman first; CONTAINER_ENGINE picks one). The build context is staged
// here and holds only the compiled binary and the socket's directory, so nothing else can leak in.
//   IMAGE_TAG   the image's name (default printerfacts:VERSION)
//   IMAGE_BASE  the base image (default: the Containerfile's, gcr.io/distroless/cc-debian12:nonroot)
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");
const BINARY = join(ROOT, "dist/printerfacts");
const CONTAINERFILE = join(ROOT, "deploy/container/Containerfile");

function fail(message: string): never {
  console.error(`image: ${message}`);
  process.exit(1);
}

const engine = process.env.CONTAINER_ENGINE || ["podman", "docker"].find((name) => Bun.which(name) !== null);
if (!engine)
  fail("neither podman nor docker is on PATH; install one (Debian: apt-get install podman) or set CONTAINER_ENGINE");
if (!existsSync(BINARY)) fail(`${BINARY} does not exist; build it first (npm run build)`);

const tag = process.env.IMAGE_TAG || `printerfacts:${pkg.version}`;
const context = mkdtempSync(join(tmpdir(), "printerfacts-image-"));
try {
  try {
    linkSync(BINARY, join(context, "printerfacts"));
  } catch {
    copyFileSync(BINARY, join(context, "printerfacts"));
  }
  mkdirSync(join(context, "socket-dir"));
  const args = ["build", "-f", CONTAINERFILE, "-t", tag];
  // podman writes OCI images by default, and OCI has no HEALTHCHECK: Docker's format keeps it.
  if (engine.endsWith("podman")) args.push("--format", "docker");
  if (process.env.IMAGE_BASE) args.push("--build-arg", `BASE=${process.env.IMAGE_BASE}`);
  const r = spawnSync(engine, [...args, context], { stdio: "inherit" });
  if (r.error) fail(`could not run ${engine}: ${r.error.message}`);
  if (r.status !== 0) fail(`${engine} build failed (exit ${r.status})`);
  console.log(`image: built ${tag} with ${engine}`);
} finally {
  rmSync(context, { recursive: true, force: true });
}

#!/usr/bin/env bun
// Command-line entry: flags, config, then serve. Exit codes: 0 ok, 1 could not start,
// 64 bad usage, 78 bad configuration (EX_USAGE and EX_CONFIG from sysexits.h).
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { facts } from "./facts.ts";
import { log } from "./log.ts";
import { exitOnFatalErrors } from "./fatal.ts";
import { watchFileDescriptors } from "./fdwatch.ts";
import { exitOnSignals, startServer } from "./server.ts";
import { SocketError } from "./socket.ts";

const USAGE = `printerfacts ${pkg.version}: random printer facts over HTTP

Usage: printerfacts [--help | --version]

Configured by environment variables:
  SOCKPATH          serve on this Unix socket only (e.g. /run/printerfacts/printerfacts.sock)
  SOCKMODE          socket permissions, octal (default 0660)
  SOCKGROUP         group (name or gid) the socket belongs to (default: the process's group)
  PORT              serve on TCP instead (default 3000 when SOCKPATH is unset)
  HOST              TCP address to bind (default ::, all interfaces, IPv4 and IPv6)
  SHUTDOWN_TIMEOUT  seconds to let requests finish after SIGTERM (default 10)
  MAX_BODY          largest request body in bytes; larger ones get 413 (default 1024)
  IDLE_TIMEOUT      seconds before an idle connection is closed, 0 = never (default 75)
SOCKPATH and PORT are exclusive: set one.

Routes: GET /fact, /facts/{id}, /, /healthz`;

function runtimeName(): string {
  if (typeof globalThis.Bun !== "undefined") return `bun ${Bun.version}`;
  return `node ${process.versions.node}`;
}

export async function main(args: string[]): Promise<void> {
  exitOnFatalErrors(log);
  for (const arg of args) {
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      return;
    }
    if (arg === "--version" || arg === "-V") {
      console.log(`printerfacts ${pkg.version} (${runtimeName()})`);
      return;
    }
    log.error(`unknown argument ${JSON.stringify(arg)}; printerfacts takes only --help and --version (configure it with environment variables)`);
    process.exit(64);
  }

  try {
    const config = loadConfig(process.env);
    const app = createApp({ facts, maxBodyBytes: config.maxBodyBytes });
    const server = await startServer(config, (request, conn) => app.fetch(request, conn), log);
    exitOnSignals(server, log);
    watchFileDescriptors(log);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error(`config: ${err.message}`);
      process.exit(78);
    }
    if (err instanceof SocketError) {
      log.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

await main(process.argv.slice(2));

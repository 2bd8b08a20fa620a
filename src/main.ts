// Command-line entry: flags, config, then serve. Exit codes: 0 ok, 1 could not start,
// 64 bad usage, 70 an error outside any request (fatal.ts), 78 bad configuration (EX_USAGE,
// EX_SOFTWARE and EX_CONFIG from sysexits.h).
import pkg from "../package.json" with { type: "json" };
import { accessLog } from "./access-log.ts";
import { createApp } from "./app.ts";
import { clientAddress } from "./client-address.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { facts } from "./facts.ts";
import { exitOnFatalErrors } from "./fatal.ts";
import { watchFileDescriptors } from "./fdwatch.ts";
import { runtimeName } from "./serve/index.ts";
import { UnsupportedError } from "./serve/types.ts";
import { lineWriter } from "./line-writer.ts";
import { fatal, isEnabled, log, setLogLevel } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { exitOnSignals, ListenError, startServer } from "./server.ts";
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
  MAX_BODY          largest request body in bytes; larger ones get 413 (default 16384)
  IDLE_TIMEOUT      seconds before an idle connection is closed, 0 = never (default 75)
  LOG_FORMAT        access log on stdout: text (default) or json
  LOG_LEVEL         info (default), warn, error or off
  TRUST_PROXY       TCP peers (IPs, CIDRs, comma-separated) whose X-Real-IP is believed
  METRICS_SOCKPATH  serve /metrics only, on this Unix socket (METRICS_SOCKMODE, METRICS_SOCKGROUP)
  METRICS_PORT      serve /metrics only, on this TCP port (METRICS_HOST, default 127.0.0.1)
SOCKPATH and PORT are exclusive: set one. Without METRICS_*, /metrics is on the main listener.

Routes: GET /fact, /facts/{id}, /, /healthz, /metrics`;

export async function main(args: string[]): Promise<void> {
  exitOnFatalErrors(fatal);
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
    setLogLevel(config.log.level);
    const metrics = createMetrics({ version: pkg.version, runtime: runtimeName() });
    const stdout = lineWriter(1, (err) => log.error(`access log: writing to stdout failed (${err.message}); no more access lines`));
    const app = createApp({
      facts,
      observers: [
        accessLog({ format: config.log.format, clientAddress: await clientAddress(config.trustProxy), writer: stdout, isEnabled }),
        metrics.observer,
      ],
      metrics: config.metrics ? undefined : metrics.serve,
      onFactServed: metrics.factServed,
      maxBodyBytes: config.maxBodyBytes,
      log,
    });
    const metricsApp = metrics.app();
    const server = await startServer(config, (request, conn) => app.fetch(request, conn), log, {
      metricsHandler: (request, conn) => metricsApp.fetch(request, conn),
      onClosed: stdout.flush,
    });
    exitOnSignals(server, log);
    watchFileDescriptors(log);
  } catch (err) {
    if (err instanceof ConfigError) {
      fatal(`config: ${err.message}`);
      process.exit(78);
    }
    if (err instanceof SocketError || err instanceof ListenError || err instanceof UnsupportedError) {
      fatal(err.message);
      process.exit(1);
    }
    throw err;
  }
}

await main(process.argv.slice(2));

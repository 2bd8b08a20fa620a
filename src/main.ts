// Command-line entry: flags, config, then serve. Exit codes: 0 ok, 1 could not start (something
// on the host must change: SOCKPATH, a port), 64 bad usage, 70 an error outside any request
// (fatal.ts), 75 SOCKPATH removed or replaced while serving (server.ts), 78 bad configuration
// (EX_USAGE, EX_SOFTWARE, EX_TEMPFAIL and EX_CONFIG from sysexits.h). The units restart after
// 70, 75 or a signal, not after the others (RestartPreventExitStatus=1 64 78).
import pkg from "../package.json" with { type: "json" };
import { accessLog } from "./observe/access-log.ts";
import { createApp } from "./http/app.ts";
import { clientAddress } from "./observe/client-address.ts";
import { ConfigError, configWarnings, ENV_VARS, loadConfig, VARIABLES, type Variable } from "./config.ts";
import { facts } from "./http/facts.ts";
import { exitOnFatalErrors } from "./fatal.ts";
import { watchFileDescriptors } from "./observe/fdwatch.ts";
import { runtimeName } from "./listen/adapters/index.ts";
import { UnsupportedError } from "./types.ts";
import { lineWriter } from "./observe/line-writer.ts";
import { fatal, isEnabled, log, setLogLevel } from "./log.ts";
import { createMetrics } from "./observe/metrics.ts";
import { exitOnSignals, ListenError, startServer } from "./listen/server.ts";
import { exitWhenSocketLost } from "./listen/server.ts";
import { SocketError } from "./listen/socket.ts";

/** --help: the variables come from config.ts's table, so a new one is listed without a second edit. */
function usage(): string {
  const variables = ENV_VARS.map((name) => {
    const variable: Variable = VARIABLES[name];
    const suffix = variable.default === undefined ? "" : ` (default ${variable.default})`;
    return `  ${name.padEnd(19)}${variable.about}${suffix}`;
  });
  return `printerfacts ${pkg.version}: random printer facts over HTTP

Usage: printerfacts [--help | --version]
       printerfacts check [USER]   can USER (default: nginx's worker user) connect to SOCKPATH,
                                   and does /healthz answer? Exit 0 yes; see docs/check.md

Configured by environment variables:
${variables.join("\n")}
SOCKPATH and PORT are exclusive: set one. Without METRICS_*, /metrics is on the main listener.

Routes: GET /fact, /facts/{id}, /, /healthz, /metrics`;
}

export async function main(args: string[]): Promise<void> {
  exitOnFatalErrors(fatal);
  if (args[0] === "check") {
    const { check } = await import("./check.ts");
    process.exit(await check(args.slice(1), process.env));
  }
  for (const arg of args) {
    if (arg === "--help" || arg === "-h") {
      console.log(usage());
      return;
    }
    if (arg === "--version" || arg === "-V") {
      console.log(`printerfacts ${pkg.version} (${runtimeName()})`);
      return;
    }
    log.error(
      `unknown argument ${JSON.stringify(arg)}; printerfacts takes only --help, --version and check [USER] (configure it with environment variables)`,
    );
    process.exit(64);
  }

  try {
    const config = loadConfig(process.env);
    setLogLevel(config.log.level);
    for (const warning of configWarnings(config)) log.warn(warning);
    const metrics = createMetrics({ version: pkg.version, runtime: runtimeName() });
    const stdout = lineWriter(1, (err) =>
      log.error(`access log: writing to stdout failed (${err.message}); no more access lines`),
    );
    const app = createApp({
      facts,
      observers: [
        accessLog({
          format: config.log.format,
          clientAddress: await clientAddress(config.trustProxy),
          writer: stdout,
          isEnabled,
        }),
        metrics.observer,
      ],
      metrics: config.metrics ? undefined : metrics.serve,
      onFactServed: metrics.factServed,
      maxBodyBytes: config.maxBodyBytes,
      log,
    });
    const metricsApp = metrics.app();
    const server = await startServer(
      config,
      {
        main: (request, conn) => app.fetch(request, conn),
        metrics: (request, conn) => metricsApp.fetch(request, conn),
      },
      log,
      { onClosed: stdout.flush },
    );
    exitOnSignals(server, log);
    exitWhenSocketLost(server, log);
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

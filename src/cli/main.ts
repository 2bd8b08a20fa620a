// The command line: flags, `check`, config, then serve. Exit codes: exit.ts.
import pkg from "../../package.json" with { type: "json" };
import { ConfigError, configWarnings, loadConfig } from "../config.ts";
import { exitOnFatalErrors } from "../fatal.ts";
import { createApp } from "../http/app.ts";
import { facts } from "../http/facts.ts";
import { adapter, runtimeName } from "../listen/adapters/index.ts";
import { exitOnSignals, exitWhenSocketLost, ignoreStraySignals, ListenError, startServer } from "../listen/server.ts";
import { SocketError } from "../listen/socket.ts";
import { fatal, isEnabled, log, setLogLevel, useNonBlockingStderr } from "../log.ts";
import { accessLog } from "../observe/access-log.ts";
import { clientAddress } from "../observe/client-address.ts";
import { watchFileDescriptors } from "../observe/fdwatch.ts";
import { flushAll, lineWriter } from "../observe/line-writer.ts";
import { createMetrics } from "../observe/metrics.ts";
import { UnsupportedError } from "../types.ts";
import { EXIT } from "./exit.ts";
import { usage } from "./usage.ts";

export async function main(args: string[]): Promise<void> {
  exitOnFatalErrors(fatal, flushAll);
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
    process.exit(EXIT.usage);
  }

  ignoreStraySignals(log);
  try {
    const config = loadConfig(process.env);
    setLogLevel(config.log.level);
    for (const warning of configWarnings(config)) log.warn(warning);
    const metrics = createMetrics({ version: pkg.version, runtime: runtimeName() });
    const stdout = lineWriter(1, {
      stream: "stdout",
      onError: (err) => log.error(`access log: writing to stdout failed (${err.message}); no more access lines`),
      onDropped: (count) => log.warn(`access log: ${count} lines dropped while stdout's reader was not keeping up`),
    });
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
      // Deno checks every header again in each new Response, but not in a clone (headers.ts).
      prebuiltForm: adapter.runtime === "deno" ? "template" : "headers",
    });
    const server = await startServer(config, { main: app.fetch, metrics: metrics.app().fetch }, log);
    exitOnSignals(server, log, flushAll);
    exitWhenSocketLost(server, log, flushAll);
    useNonBlockingStderr();
    watchFileDescriptors(log);
  } catch (err) {
    if (err instanceof ConfigError) {
      fatal(`config: ${err.message}`);
      process.exit(EXIT.config);
    }
    if (err instanceof SocketError || err instanceof ListenError || err instanceof UnsupportedError) {
      fatal(err.message);
      process.exit(EXIT.failed);
    }
    throw err;
  }
}

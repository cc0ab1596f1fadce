/**
 * Runs the demo service: configuration from the environment, one logfmt line per request
 * on stdout, graceful stop on SIGTERM/SIGINT (a second signal stops at once).
 * Exit codes: 0 stopped after draining, 1 runtime failure or drain timed out, 2 bad configuration.
 */
import { ConfigError, loadConfig, type DemoConfig } from "./config";
import { formatLogLine, formatRequestLog } from "./log";
import { createDemoServer } from "./server";
import { closeGracefully } from "./shutdown";

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

function readConfig(): DemoConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

function main(): void {
  const config = readConfig();
  const server = createDemoServer(config, { onRequestLog: (entry) => log(formatRequestLog(entry)) });

  server.on("error", (error: NodeJS.ErrnoException) => {
    fail(`cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`, 1);
  });

  const stop = (signal: NodeJS.Signals): void => {
    log(formatLogLine({ event: "shutdown", signal, timeout_ms: config.shutdownTimeoutMs }));
    void closeGracefully(server, config.shutdownTimeoutMs).then((result) => {
      log(formatLogLine({ event: "stopped", result }));
      process.exit(result === "drained" ? 0 : 1);
    });
  };
  // `once`: a second signal gets the default action and ends the process at once.
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  server.listen(config.port, config.host, () => {
    log(
      formatLogLine({
        event: "listening",
        service: config.serviceName,
        address: `${config.host}:${config.port}`,
        pod: config.podName,
        upstreams: config.upstreams.map((upstream) => upstream.name).join(",") || undefined,
      }),
    );
  });
}

main();

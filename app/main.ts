/**
 * Runs the demo service: configuration from the environment, one logfmt line per request
 * on stdout, graceful stop on SIGTERM/SIGINT (a second signal stops at once).
 * On the first signal the app drains: for DRAIN_MS it keeps serving every request but answers
 * `/healthz` with 503, so callers' health checks stop sending it work; then it stops accepting,
 * finishes what is in flight (at most SHUTDOWN_TIMEOUT_MS) and exits.
 * Exit codes: 0 stopped after draining, 1 runtime failure or drain timed out, 2 bad configuration.
 */
import { ConfigError, loadConfig, type DemoConfig } from "./config";
import { formatLogLine, formatRequestLog } from "./log";
import { createDemoServer, createHealthServer } from "./server";
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
  let draining = false;
  const server = createDemoServer(config, { onRequestLog: (entry) => log(formatRequestLog(entry)), isDraining: () => draining });
  const healthServer = config.healthPort === undefined ? undefined : createHealthServer(config);

  server.on("error", (error: NodeJS.ErrnoException) => {
    fail(`cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`, 1);
  });
  healthServer?.on("error", (error: NodeJS.ErrnoException) => {
    fail(`cannot listen on health port ${String(config.healthPort)}: ${error.code ?? error.message}`, 1);
  });

  const stop = (signal: NodeJS.Signals): void => {
    draining = true;
    log(formatLogLine({ event: "shutdown", signal, drain_ms: config.drainMs, timeout_ms: config.shutdownTimeoutMs }));
    const close = (): void => {
      void closeGracefully(server, config.shutdownTimeoutMs).then((result) => {
        log(formatLogLine({ event: "stopped", result }));
        // Probes may still ask until now; the process is about to exit.
        healthServer?.closeAllConnections();
        process.exit(result === "drained" ? 0 : 1);
      });
    };
    // Without a drain, stop accepting at once: by the time the shutdown line is out, no new connection gets in.
    if (config.drainMs > 0) setTimeout(close, config.drainMs);
    else close();
  };
  // `once`: a second signal gets the default action and ends the process at once.
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  // No host: every interface, IPv6 and IPv4 where the kernel has IPv6, IPv4 only otherwise.
  healthServer?.listen(config.healthPort);
  server.listen(config.port, config.host, () => {
    log(
      formatLogLine({
        event: "listening",
        service: config.serviceName,
        address: `${config.host}:${config.port}`,
        pod: config.podName,
        ...(config.healthPort === undefined ? {} : { health_port: config.healthPort }),
        upstreams: config.upstreams.map((upstream) => upstream.name).join(",") || undefined,
      }),
    );
  });
}

main();

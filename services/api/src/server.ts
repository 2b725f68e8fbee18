#!/usr/bin/env node
/**
 * API process entry: configuration from the environment, NATS, HTTP server, signals.
 * SIGTERM/SIGINT stop accepting requests, end waits and event streams, drain the NATS
 * connection and exit 0.
 */
import { apiConfigFromEnv, connectNats, createLogger, exitOnSignals, provisionInfrastructure } from '@weft/shared';
import { buildApp } from './app.js';

/** Longest graceful shutdown before the process exits anyway, in milliseconds. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

const config = apiConfigFromEnv();
const log = createLogger('weft-api', config.logLevel);

try {
  const nc = await connectNats(config, 'weft-api', { log });
  const infra = await provisionInfrastructure(nc, config);
  const app = await buildApp({ config, infra, logger: log });
  await app.listen({ host: config.host, port: config.port });
  exitOnSignals(log, () => app.close().then(() => nc.drain()), SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  log.fatal({ err }, 'API failed to start');
  process.exit(1);
}

#!/usr/bin/env node
/**
 * Worker process entry: configuration from the environment, signals, health endpoint.
 * SIGTERM/SIGINT drain the worker (finish or hand back work in flight) and exit 0.
 */
import { createLogger, exitOnSignals, workerConfigFromEnv } from '@weft/shared';
import { startHealthServer } from './health-server.js';
import { Worker } from './worker.js';

const config = workerConfigFromEnv();
const log = createLogger('weft-worker', config.logLevel);

try {
  const worker = await Worker.create(config, { logger: log });
  const health = config.healthPort > 0 ? await startHealthServer(config.healthPort, () => worker.state) : undefined;
  exitOnSignals(log, () => worker.close().then(() => health?.close()));
} catch (err) {
  log.fatal({ err }, 'worker failed to start');
  process.exit(1);
}

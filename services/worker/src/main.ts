#!/usr/bin/env node
/**
 * Worker process entry: configuration from the environment, signals, health endpoint.
 * SIGTERM/SIGINT drain the worker (finish or hand back work in flight) and exit 0.
 */
import { createLogger, exitOnSignals, workerConfigFromEnv } from '@weft/shared';
import { startHealthServer } from './health-server.js';
import { Worker, type WorkerState } from './worker.js';

const config = workerConfigFromEnv();
const log = createLogger('weft-worker', config.logLevel);

try {
  let state: () => WorkerState | 'starting' = () => 'starting';
  // Up first, so that a worker waiting for NATS is alive (and not ready) to its probes.
  const health = config.healthPort > 0 ? await startHealthServer(config.healthPort, () => state()) : undefined;
  const worker = await Worker.create(config, { logger: log });
  state = () => worker.state;
  exitOnSignals(log, () => worker.close().then(() => health?.close()));
} catch (err) {
  log.fatal({ err }, 'worker failed to start');
  process.exit(1);
}

/**
 * A real Weft installation for one test file: nats-server, provisioned resources under a
 * unique prefix, optionally a worker, and the API application.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  createLogger,
  provisionInfrastructure,
  resolveApiConfig,
  resolveWorkerConfig,
  type ApiConfig,
  type ApiConfigSchema,
  type Infrastructure,
} from '@weft/shared';
import { startNatsServer, type RunningNatsServer } from '@weft/shared/testing';
import { Worker } from '@weft/worker';
import type { z } from 'zod';
import { buildApp, type ApiInstance, type JobEventStreamOptions } from '../../src/index.js';

/** Everything a test file talks to. */
export interface TestEnv {
  readonly server: RunningNatsServer;
  readonly config: ApiConfig;
  readonly nc: NatsConnection;
  readonly infra: Infrastructure;
  readonly app: ApiInstance;
  readonly worker: Worker | undefined;
  /** Stops everything, in order. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startTestEnv}. */
export interface TestEnvOptions {
  /** API settings besides the NATS URL and prefix. */
  readonly config?: Partial<z.input<typeof ApiConfigSchema>>;
  /** Whether to start a worker. @default true */
  readonly worker?: boolean;
  readonly eventStreams?: Partial<JobEventStreamOptions>;
}

const logLevel = (process.env['WEFT_TEST_LOG_LEVEL'] ?? 'silent') as ApiConfig['logLevel'];

/** Starts a nats-server, provisions a fresh prefix, starts a worker and builds the app. */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const server = await startNatsServer();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const config = resolveApiConfig({ ...options.config, natsUrl: server.url, prefix, logLevel });
  let nc: NatsConnection | undefined;
  let worker: Worker | undefined;
  try {
    nc = await connectNats(config, 'weft-api-test');
    const infra = await provisionInfrastructure(nc, config);
    if (options.worker ?? true) {
      // The settings the worker shares with the API (the file store and the shared volume).
      const shared = { filePartBytes: config.filePartBytes, ...(config.dataRoot === undefined ? {} : { dataRoot: config.dataRoot }) };
      const workerConfig = resolveWorkerConfig({ natsUrl: server.url, prefix, threads: 2, heartbeatMs: 500, logLevel, ...shared });
      worker = await Worker.create(workerConfig);
    }
    const app = await buildApp({
      config,
      infra,
      logger: createLogger('weft-api-test', logLevel),
      ...(options.eventStreams ? { eventStreams: options.eventStreams } : {}),
    });
    const connection = nc;
    let closing: Promise<void> | undefined;
    const close = async () => {
      await app.close();
      await worker?.close();
      await connection.drain().catch(() => undefined);
      await server.stop();
    };
    return { server, config, nc, infra, app, worker, close: () => (closing ??= close()) };
  } catch (err) {
    await worker?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await server.stop();
    throw err;
  }
}

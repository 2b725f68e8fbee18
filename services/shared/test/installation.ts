import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, provisionInfrastructure, resolveWorkerConfig, type Infrastructure } from '../src/index.js';
import { startNatsServer, type RunningNatsServer } from '../src/testing/index.js';

/** A real nats-server with Weft's streams and buckets provisioned on it, for one test file. */
export interface TestInstallation {
  readonly server: RunningNatsServer;
  readonly nc: NatsConnection;
  readonly infra: Infrastructure;
  /** Drains the connection and stops the server. */
  close(): Promise<void>;
}

/** Starts a nats-server and provisions the infrastructure under `prefix`. */
export async function startInstallation(prefix: string): Promise<TestInstallation> {
  const server = await startNatsServer();
  const config = resolveWorkerConfig({ natsUrl: server.url, prefix });
  const nc = await connectNats(config, `${prefix}-test`);
  const infra = await provisionInfrastructure(nc, config);
  return {
    server,
    nc,
    infra,
    async close() {
      await nc.drain();
      await server.stop();
    },
  };
}

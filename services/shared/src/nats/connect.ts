import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { CommonConfig } from '../config.js';

/**
 * Connects to NATS with Weft's settings: reconnect forever (a restarted server must
 * not take workers down with it), credentials from the configuration.
 */
export async function connectNats(config: CommonConfig, name: string): Promise<NatsConnection> {
  return connect({
    servers: config.natsUrl.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Capturing a stack trace for every request costs more than the request itself on hot paths.
    noAsyncTraces: true,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser, pass: config.natsPassword ?? '' }),
    ...(config.natsToken === undefined ? {} : { token: config.natsToken }),
  });
}

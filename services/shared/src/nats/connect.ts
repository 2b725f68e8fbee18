import { setTimeout as sleep } from 'node:timers/promises';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import type { CommonConfig } from '../config.js';
import type { Logger } from '../logger.js';

/** The first wait before connecting again to a server that could not be reached, in milliseconds. */
const FIRST_RETRY_MS = 500;

/** The longest wait between attempts to reach the server, in milliseconds. */
const MAX_RETRY_MS = 5_000;

/** Error codes of a server that cannot be reached (yet): refused, unreachable, or a name not resolved. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Options of {@link connectNats}. */
export interface ConnectNatsOptions {
  /** Where the waits for a server that cannot be reached are logged. */
  readonly log?: Logger;
  /** Stops waiting for the server (the call rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/**
 * Connects to NATS with Weft's settings: reconnect forever (a restarted server must
 * not take workers down with it), credentials from the configuration.
 *
 * A server that cannot be reached yet (not started, restarting, its name not yet in
 * DNS) is waited for, with attempts from 0.5 s to 5 s apart, each logged: a process
 * started during an outage comes up with the server instead of exiting and being
 * restarted ever more slowly. Other failures, such as refused credentials, reject
 * at once.
 */
export async function connectNats(config: CommonConfig, name: string, options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const servers = config.natsUrl.split(',').map((s) => s.trim());
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect({
        servers,
        name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // Capturing a stack trace for every request costs more than the request itself on hot paths.
        noAsyncTraces: true,
        ...(config.natsUser === undefined ? {} : { user: config.natsUser, pass: config.natsPassword ?? '' }),
        ...(config.natsToken === undefined ? {} : { token: config.natsToken }),
      });
    } catch (err) {
      if (!isUnreachable(err)) throw err;
      const delayMs = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), MAX_RETRY_MS);
      options.log?.warn({ err, servers, attempt, delayMs }, 'NATS cannot be reached; waiting for it');
      // Only an abort ends the sleep early; its reason is what the call rejects with.
      await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => undefined);
      options.signal?.throwIfAborted();
    }
  }
}

/** Whether a failure to connect means that the server cannot be reached (yet), rather than that it refused. */
function isUnreachable(err: unknown): boolean {
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.has(code);
}

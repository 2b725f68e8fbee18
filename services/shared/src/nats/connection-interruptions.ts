import type { NatsConnection } from '@nats-io/transport-node';

/** How the connection to NATS was interrupted: lost, or re-established after a loss. */
export type ConnectionInterruption = 'disconnect' | 'reconnect';

/**
 * Calls `listener` each time the connection to NATS is lost (`disconnect`, which also
 * follows a connection dropped as stale or forced to reconnect) and each time it is
 * re-established (`reconnect`), until the connection closes or the returned function
 * is called. `listener` must not throw.
 *
 * A reply to a request made before either moment is unlikely ever to come: nats.js
 * answers no pending request when the connection drops (its requests and the
 * subscriptions waiting for them stay until their timeout), what went out on the lost
 * socket went with it, and what was published while disconnected is dropped when
 * nats.js dials again (it empties its outbound buffer before every attempt), except
 * what was published during the handshake of the attempt that succeeds.
 */
export function onConnectionInterrupted(nc: NatsConnection, listener: (interruption: ConnectionInterruption) => void): () => void {
  let stopped = false;
  void (async () => {
    for await (const status of nc.status()) {
      // The iterator only ends with the connection: a stopped watch ends at the next status.
      if (stopped) break;
      if (status.type === 'disconnect' || status.type === 'reconnect') listener(status.type);
    }
  })();
  return () => {
    stopped = true;
  };
}

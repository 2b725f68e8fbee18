import { ConnectionError, TimeoutError, type Msg, type NatsConnection, type Payload, type RequestOptions } from '@nats-io/transport-node';
import { onConnectionInterrupted } from './connection-interruptions.js';

/**
 * A view of `nc` whose requests fail as soon as the connection is lost or
 * re-established instead of waiting out their timeout, since their replies are then
 * unlikely ever to come (see {@link onConnectionInterrupted}). They fail with the
 * `TimeoutError` a timeout gives (its cause a `ConnectionError` saying why), so that
 * whoever asked retries as after a timeout, JetStream's own clients included: hand
 * the view to `jetstream` and `jetstreamManager`, and the KV and object store clients
 * made from them, whose requests (KV gets and direct gets, publishes, API calls) all
 * go through `request`. Everything else is `nc`'s own.
 *
 * A request failed this way may still have been served (and, in a cluster, a reply
 * may even reach the new connection): that is harmless, as it is after a timeout.
 */
export function failInterruptedRequests(nc: NatsConnection): NatsConnection {
  const waiting = new Set<(err: Error) => void>();
  onConnectionInterrupted(nc, (interruption) => {
    const failed = [...waiting];
    waiting.clear();
    for (const fail of failed) {
      fail(new TimeoutError({ cause: new ConnectionError(`the connection to NATS was interrupted (${interruption}) before the reply came`) }));
    }
  });

  const request = (subject: string, payload?: Payload, opts?: RequestOptions): Promise<Msg> =>
    new Promise<Msg>((resolve, reject) => {
      waiting.add(reject);
      nc.request(subject, payload, opts).then(
        (msg) => {
          waiting.delete(reject);
          resolve(msg);
        },
        (err: unknown) => {
          waiting.delete(reject);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

  // The clients read members of the connection beyond its interface (`features`,
  // `options`, `_resub`): everything but `request` is passed through as it is, methods
  // bound to the connection itself.
  const bound = new WeakMap<object, unknown>();
  return new Proxy(nc, {
    get(target, property) {
      if (property === 'request') return request;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(value);
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(value, method);
      }
      return method;
    },
  });
}

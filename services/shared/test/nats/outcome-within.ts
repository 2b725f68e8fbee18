import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How `promise` ended within `ms`: `resolved` when it resolved, its error when it
 * failed, or `'waiting'` when it had not ended by then.
 */
export function outcomeWithin(promise: Promise<unknown>, ms: number, resolved: string): Promise<unknown> {
  return Promise.race([
    promise.then(
      () => resolved,
      (err: unknown) => err,
    ),
    sleep(ms, undefined, { ref: false }).then(() => 'waiting'),
  ]);
}

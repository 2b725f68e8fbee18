import { z } from 'zod';
import { boundedBigInteger } from './numeric.js';
import { defineTask } from './task-definition.js';

/** Longest sleep accepted: one hour. */
export const MAX_SLEEP_MS = 3_600_000;

/** Resolves after `ms` milliseconds, or rejects with the signal's reason when it is aborted first. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `sleep(ms, message?)`: waits, then returns the message. */
export const sleepTask = defineTask({
  name: 'sleep',
  description: 'Waits ms milliseconds (at most one hour), then returns the message or "slept <ms>ms".',
  cpuBound: false,
  args: z.tuple([
    z
      .union([z.number().min(0).max(MAX_SLEEP_MS), boundedBigInteger(0, MAX_SLEEP_MS)])
      .describe('milliseconds to wait'),
    z.string().optional().describe('value to return'),
  ]),
  run: async ([ms, message], ctx) => {
    const millis = Number(ms);
    await delay(millis, ctx.signal);
    return message ?? `slept ${millis}ms`;
  },
});

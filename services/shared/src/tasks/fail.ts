import { z } from 'zod';
import { defineTask } from './task-definition.js';

/** The message `fail` uses when it is given none. */
export const DEFAULT_FAIL_MESSAGE = 'task failed on purpose';

/**
 * `fail(...args)`: always throws a retryable error, for testing retries and failure
 * handling. The message is its last string argument, so it also works as a chain step
 * (which receives the previous value first).
 */
export const failTask = defineTask({
  name: 'fail',
  description: 'Always fails with a retryable error; the message is its last string argument (default "task failed on purpose").',
  cpuBound: false,
  args: z.array(z.unknown()).describe('any arguments; the last string is the error message'),
  run: (args): never => {
    const message = args.findLast((a): a is string => typeof a === 'string');
    throw new Error(message ?? DEFAULT_FAIL_MESSAGE);
  },
});

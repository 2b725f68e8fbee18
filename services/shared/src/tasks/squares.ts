import { z } from 'zod';
import { forEachNumeric, numericInput, numericInputLength, squareExact } from './numeric.js';
import type { Numeric } from './numeric.js';
import { defineTask, PermanentTaskError } from './task-definition.js';

/** Longest list `squares` returns; a longer range is rejected rather than exhausting memory. */
export const MAX_SQUARES_LENGTH = 10_000_000;

/** `squares(input)`: the list of exact squares of a list or range. */
export const squaresTask = defineTask({
  name: 'squares',
  description: 'Returns the list of the squares of a list of numbers or of a range, exactly for integers.',
  cpuBound: true,
  args: z.tuple([numericInput.describe('input')]),
  run: ([input], ctx) => {
    const length = numericInputLength(input);
    if (length > MAX_SQUARES_LENGTH) {
      throw new PermanentTaskError(`squares returns at most ${MAX_SQUARES_LENGTH} values, got an input of ${length}`);
    }
    const result: Numeric[] = [];
    forEachNumeric(input, (value) => result.push(squareExact(value)), ctx.signal);
    return result;
  },
});

import { z } from 'zod';
import { ExactSum, forEachNumeric, numericInput, squareExact } from './numeric.js';
import { defineTask } from './task-definition.js';

/** `sum-of-squares(input)`: the exact sum of the squares of a list or range, by iteration. */
export const sumOfSquaresTask = defineTask({
  name: 'sum-of-squares',
  description: 'Sums the squares of a list of numbers or of a range, exactly for integers.',
  cpuBound: true,
  args: z.tuple([numericInput.describe('input')]),
  run: ([input], ctx) => {
    const total = new ExactSum();
    forEachNumeric(input, (value) => total.add(squareExact(value)), ctx.signal);
    return total.value();
  },
});

import { z } from 'zod';
import { ABORT_CHECK_MASK, ExactSum, isRange, nestedNumericList, rangeSchema, rangeSum } from './numeric.js';
import type { NestedNumericList } from './numeric.js';
import { defineTask } from './task-definition.js';

function addAll(list: NestedNumericList, total: ExactSum, signal: AbortSignal): void {
  for (let i = 0; i < list.length; i++) {
    if ((i & ABORT_CHECK_MASK) === ABORT_CHECK_MASK) signal.throwIfAborted();
    const item = list[i];
    if (Array.isArray(item)) addAll(item as NestedNumericList, total, signal);
    else total.add(item as number | bigint);
  }
}

/** `sum(values)`: the exact sum of a (nested) list of numbers or of a range. */
export const sumTask = defineTask({
  name: 'sum',
  description:
    'Sums a list of numbers, nested lists of numbers (e.g. partial results) or a range, exactly for integers.',
  cpuBound: false,
  args: z.tuple([z.union([nestedNumericList, rangeSchema]).describe('values')]),
  run: ([values], ctx) => {
    // A range is summed in closed form: this task runs on the event loop.
    if (isRange(values)) return rangeSum(values);
    const total = new ExactSum();
    addAll(values, total, ctx.signal);
    return total.value();
  },
});

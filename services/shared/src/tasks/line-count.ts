import { z } from 'zod';
import { countLines } from '../files/lines.js';
import { defineTask } from './task-definition.js';
import { addCounts, countList, isTextSplit, textSplit } from './text-split.js';

/**
 * `line-count(input)`: the number of lines of a text split (map) or the sum of
 * line counts (reduce). A last line without a line end counts.
 */
export const lineCountTask = defineTask({
  name: 'line-count',
  description: 'Counts the lines of text splits (map) or sums line counts (reduce).',
  // One pass over the bytes, no decoding: cheaper than handing the split to a thread.
  cpuBound: false,
  args: z.tuple([
    z.union([textSplit, countList.describe('line counts')]).describe('a text split (map) or a list of line counts (reduce)'),
  ]),
  run: ([input]): number => {
    if (isTextSplit(input)) return countLines(input.bytes);
    let total = 0;
    for (const count of input) total = addCounts(total, count);
    return total;
  },
});

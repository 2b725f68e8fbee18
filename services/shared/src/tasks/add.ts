import { z } from 'zod';
import { addExact, numeric } from './numeric.js';
import { defineTask } from './task-definition.js';

/** `add(a, b)`: the exact sum of two numbers. */
export const addTask = defineTask({
  name: 'add',
  description: 'Adds two numbers, exactly for integers of any size.',
  cpuBound: false,
  args: z.tuple([numeric.describe('a'), numeric.describe('b')]),
  run: ([a, b]) => addExact(a, b),
});

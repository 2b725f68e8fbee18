import { z } from 'zod';
import { multiplyExact, numeric } from './numeric.js';
import { defineTask } from './task-definition.js';

/** `multiply(a, b)`: the exact product of two numbers. */
export const multiplyTask = defineTask({
  name: 'multiply',
  description: 'Multiplies two numbers, exactly for integers of any size.',
  cpuBound: false,
  args: z.tuple([numeric.describe('a'), numeric.describe('b')]),
  run: ([a, b]) => multiplyExact(a, b),
});

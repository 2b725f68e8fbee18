import { z } from 'zod';
import { ABORT_CHECK_MASK, boundedBigInteger } from './numeric.js';
import type { Numeric } from './numeric.js';
import { defineTask } from './task-definition.js';

/** Largest n accepted by `fibonacci`. */
export const MAX_FIBONACCI_N = 100_000;

/** F(78) is the last Fibonacci number below 2^53. */
const LAST_SAFE_N = 78;

/** F(n), iteratively: numbers while safe, bigint beyond. */
function fibonacci(n: number, signal: AbortSignal): Numeric {
  if (n <= LAST_SAFE_N) {
    let a = 0;
    let b = 1;
    for (let i = 0; i < n; i++) [a, b] = [b, a + b];
    return a;
  }
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i++) {
    if ((i & ABORT_CHECK_MASK) === ABORT_CHECK_MASK) signal.throwIfAborted();
    const next = a + b;
    a = b;
    b = next;
  }
  return a;
}

/** `fibonacci(n)`: the n-th Fibonacci number, exactly. */
export const fibonacciTask = defineTask({
  name: 'fibonacci',
  description: 'Returns the n-th Fibonacci number exactly (F(0) = 0, F(1) = 1), for n up to 100000.',
  cpuBound: true,
  args: z.tuple([
    z
      .union([z.number().int().min(0).max(MAX_FIBONACCI_N), boundedBigInteger(0, MAX_FIBONACCI_N)])
      .describe('n'),
  ]),
  run: ([n], ctx) => fibonacci(Number(n), ctx.signal),
});

import { z } from 'zod';
import { forEachNumeric, numericInput } from './numeric.js';
import type { Numeric } from './numeric.js';
import { defineTask } from './task-definition.js';

/** Primality by trial division by 2 and the odd numbers up to sqrt(n); deliberately simple. */
function isPrimeNumber(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}

/** Trial division for integers beyond the safe range. */
function isPrimeBigint(n: bigint, signal: AbortSignal): boolean {
  if (n % 2n === 0n) return false;
  let checks = 0;
  for (let d = 3n; d * d <= n; d += 2n) {
    if (n % d === 0n) return false;
    if ((++checks & 0xfffff) === 0) signal.throwIfAborted();
  }
  return true;
}

function isPrime(value: Numeric, signal: AbortSignal): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && isPrimeNumber(value);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? isPrimeNumber(Number(value)) : isPrimeBigint(value, signal);
}

/** `count-primes(input)`: how many primes a list or range contains, by trial division. */
export const countPrimesTask = defineTask({
  name: 'count-primes',
  description: 'Counts the primes in a list of numbers or a range, by deliberately simple trial division.',
  cpuBound: true,
  args: z.tuple([numericInput.describe('input')]),
  run: ([input], ctx) => {
    let count = 0;
    forEachNumeric(
      input,
      (value) => {
        if (isPrime(value, ctx.signal)) count++;
      },
      ctx.signal,
    );
    return count;
  },
});

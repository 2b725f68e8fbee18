/**
 * Numeric schemas and exact integer arithmetic shared by the built-in tasks.
 *
 * Integers are exact: safe integers are `number`s, anything beyond 2^53 is a
 * `bigint`, and results are normalised back to `number` whenever they fit.
 * Non-integer numbers (and integer-valued numbers beyond the safe range, which
 * may already have lost precision) are floats and use float arithmetic.
 */
import { z } from 'zod';
import { normalizeInteger } from '../json-codec.js';
import { PermanentTaskError } from './task-definition.js';

/** A number or a bigint. */
export type Numeric = number | bigint;

/** A half-open integer interval: `start` inclusive, `end` exclusive. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** A list of numerics, or (recursively) lists of them. */
export type NestedNumericList = readonly (Numeric | NestedNumericList)[];

/** A list of numerics or a range: the input of the list-processing tasks. */
export type NumericInput = readonly Numeric[] | Range;

/**
 * A bigint. Its JSON Schema (with `unrepresentable: 'any'`) is `{ "type": "integer" }`:
 * users write big integers as plain JSON numbers.
 */
export const bigInteger = z.bigint().meta({ type: 'integer' });

/** A bigint from `min` to `max`, both included; its JSON Schema carries the bounds too. */
export function boundedBigInteger(min: number, max: number) {
  return z.bigint().min(BigInt(min)).max(BigInt(max)).meta({ type: 'integer', minimum: min, maximum: max });
}

/** Any finite number or a bigint. */
export const numeric = z.union([z.number(), bigInteger]);

/** A safe integer (`number`) or a bigint. */
export const integer = z.union([z.number().int(), bigInteger]);

/** A range `{ start, end }` of safe integers, `start` inclusive, `end` exclusive, `end >= start`. */
export const rangeSchema = z
  .strictObject({
    start: z.number().int().describe('first integer of the range (inclusive)'),
    end: z.number().int().describe('end of the range (exclusive)'),
  })
  .refine((range) => range.end >= range.start, { message: 'end must be greater than or equal to start', path: ['end'] })
  .describe('the integers start, start + 1, ..., end - 1');

function isNumeric(value: unknown): value is Numeric {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint';
}

/** Path (relative to `list`) of the first element that is neither a numeric nor a nested list, or undefined. */
function findNonNumeric(list: readonly unknown[], nested: boolean): (string | number)[] | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (isNumeric(item)) continue;
    if (nested && Array.isArray(item)) {
      const inner = findNonNumeric(item as unknown[], true);
      if (inner === undefined) continue;
      return [i, ...inner];
    }
    return [i];
  }
  return undefined;
}

// The list schemas are hand-written checks rather than z.array(z.union(...)): they are
// ~30x faster on the million-element lists that map-reduce jobs pass around, and they do
// not copy the list. Their JSON Schema is supplied through metadata.

/** A list of finite numbers and bigints. */
export const numericList = z
  .custom<readonly Numeric[]>((value) => Array.isArray(value), { message: 'expected a list of numbers', abort: true })
  .superRefine((list, ctx) => {
    const path = findNonNumeric(list, false);
    if (path !== undefined) ctx.addIssue({ code: 'custom', path, message: 'expected a finite number' });
  })
  .meta({ type: 'array', items: { type: 'number' }, description: 'a list of numbers' });

/** A list whose elements are finite numbers, bigints or (recursively) such lists. */
export const nestedNumericList = z
  .custom<NestedNumericList>((value) => Array.isArray(value), { message: 'expected a list of numbers', abort: true })
  .superRefine((list, ctx) => {
    const path = findNonNumeric(list, true);
    if (path !== undefined) ctx.addIssue({ code: 'custom', path, message: 'expected a finite number or a list of numbers' });
  })
  .meta({
    type: 'array',
    items: { anyOf: [{ type: 'number' }, { type: 'array' }] },
    description: 'a list of numbers or (recursively) of lists of numbers',
  });

/** A list of numerics or a range. */
export const numericInput = z.union([numericList, rangeSchema]);

/** Whether `input` is a range rather than a list. */
export function isRange(input: NumericInput | NestedNumericList): input is Range {
  return !Array.isArray(input);
}

/** Number of elements of a numeric input (without materialising a range). */
export function numericInputLength(input: NumericInput): number {
  return isRange(input) ? input.end - input.start : input.length;
}

/** How often long loops check their abort signal (a power of two minus one, used as a mask). */
export const ABORT_CHECK_MASK = 0xffff;

/**
 * Calls `fn` for every element of a numeric input, in order; a range is iterated,
 * never materialised. When `signal` is given it is checked every 65,536 elements.
 */
export function forEachNumeric(input: NumericInput, fn: (value: Numeric) => void, signal?: AbortSignal): void {
  if (isRange(input)) {
    for (let i = input.start; i < input.end; i++) {
      if (signal !== undefined && (i & ABORT_CHECK_MASK) === 0) signal.throwIfAborted();
      fn(i);
    }
    return;
  }
  for (let i = 0; i < input.length; i++) {
    if (signal !== undefined && (i & ABORT_CHECK_MASK) === 0) signal.throwIfAborted();
    fn(input[i] as Numeric);
  }
}

/** The exact sum of a range, in closed form. */
export function rangeSum({ start, end }: Range): Numeric {
  if (end <= start) return 0;
  // In bigint throughout: the length of a range may exceed 2^53.
  const [first, stop] = [BigInt(start), BigInt(end)];
  return normalizeInteger(((first + stop - 1n) * (stop - first)) / 2n);
}

/** Whether a numeric takes part in exact integer arithmetic (a bigint or a safe integer). */
export function isExactInteger(value: Numeric): boolean {
  return typeof value === 'bigint' || Number.isSafeInteger(value);
}

/**
 * A float result, checked: JSON has no infinity, and one would reach users as `null`.
 * @throws PermanentTaskError when it overflowed
 */
function finite(value: number): number {
  if (!Number.isFinite(value)) throw new PermanentTaskError('the result lies beyond the range of a double (±1.8e308)');
  return value;
}

/** Converts a numeric to a float. */
function toFloat(value: Numeric): number {
  return typeof value === 'bigint' ? Number(value) : value;
}

/**
 * `a + b`. Exact when both are integers: computed in bigint when the result is not
 * a safe integer, and returned as a number when it is. Otherwise a float sum.
 */
export function addExact(a: Numeric, b: Numeric): Numeric {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    // For safe integers a and b, a safe float result implies an exact one.
    if (Number.isSafeInteger(sum)) return sum;
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return finite(sum);
    return BigInt(a) + BigInt(b);
  }
  if (isExactInteger(a) && isExactInteger(b)) return normalizeInteger(BigInt(a) + BigInt(b));
  return finite(toFloat(a) + toFloat(b));
}

/**
 * `a * b`. Exact when both are integers: computed in bigint when the result is not
 * a safe integer, and returned as a number when it is. Otherwise a float product.
 */
export function multiplyExact(a: Numeric, b: Numeric): Numeric {
  if (typeof a === 'number' && typeof b === 'number') {
    const product = a * b;
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return finite(product);
    // For safe integers a and b, a safe float result implies an exact one.
    if (Number.isSafeInteger(product)) return product === 0 ? 0 : product;
    return BigInt(a) * BigInt(b);
  }
  if (isExactInteger(a) && isExactInteger(b)) return normalizeInteger(BigInt(a) * BigInt(b));
  return finite(toFloat(a) * toFloat(b));
}

/** `value * value`, exact for integers (see {@link multiplyExact}). */
export function squareExact(value: Numeric): Numeric {
  return multiplyExact(value, value);
}

/**
 * An exact running sum. Integer terms are accumulated as a number while the partial
 * sum stays safe and spill into a bigint when it would not; float terms are summed
 * separately and added at the end, so integer inputs always give an exact result.
 */
export class ExactSum {
  #small = 0;
  #big = 0n;
  #float = 0;
  #hasFloat = false;

  /** Adds one term. */
  add(value: Numeric): void {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) {
        const next = this.#small + value;
        if (Number.isSafeInteger(next)) {
          this.#small = next;
        } else {
          this.#big += BigInt(this.#small);
          this.#small = value;
        }
      } else {
        this.#float += value;
        this.#hasFloat = true;
      }
    } else {
      this.#big += value;
    }
  }

  /** The sum so far: an exact integer (number when safe) unless a float term was added. */
  value(): Numeric {
    const exact = normalizeInteger(this.#big + BigInt(this.#small));
    return this.#hasFloat ? finite(toFloat(exact) + this.#float) : exact;
  }
}

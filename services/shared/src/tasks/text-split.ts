/**
 * The input of the text tasks: one split of a text file, and the schemas of the
 * large lists their partial results carry.
 */
import { z } from 'zod';
import { PermanentTaskError } from './task-definition.js';

/**
 * One split of a text file, as the engine gives it to a map task: whole lines (the
 * output of `readLineAlignedRange`), UTF-8 encoded.
 */
export const textSplit = z
  .object({
    file: z.string().describe('name of the file the split comes from'),
    bytes: z.instanceof(Uint8Array).meta({ description: 'the whole lines the split owns, UTF-8 encoded' }),
  })
  .describe('a split of a text file (supplied by the engine)');

/** One split of a text file: its file name and the bytes of the lines it owns. */
export type TextSplit = z.infer<typeof textSplit>;

/**
 * The first argument of a text task used both as map and as reduce: a text split
 * (map) or the list of the task's partial results, in input order (reduce).
 */
export function splitOrPartials<P extends z.ZodType>(partial: P, name: string) {
  return z.union([textSplit, z.array(partial)]).describe(`a text split (map) or a list of ${name} partial results (reduce)`);
}

/** Whether a map-or-reduce input is a text split rather than a list of partials. */
export function isTextSplit<T>(input: TextSplit | readonly T[]): input is TextSplit {
  return !Array.isArray(input);
}

function findNonString(list: readonly unknown[], sorted: boolean): number | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'string') return i;
    if (sorted && i > 0 && !((list[i - 1] as string) < item)) return i;
  }
  return undefined;
}

function findNonCount(list: readonly unknown[]): number | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0) return i;
  }
  return undefined;
}

// Like the numeric lists, these are hand-written checks rather than z.array(...):
// partials of large corpora hold hundreds of thousands of words, and these checks
// are much faster and do not copy the list.

/** A list of strings. */
export const stringList = z
  .custom<string[]>((value) => Array.isArray(value), { message: 'expected a list of strings', abort: true })
  .superRefine((list, ctx) => {
    const index = findNonString(list, false);
    if (index !== undefined) ctx.addIssue({ code: 'custom', path: [index], message: 'expected a string' });
  })
  .meta({ type: 'array', items: { type: 'string' } });

/** A list of distinct strings in ascending UTF-16 code unit order (the order of `Array.prototype.sort()`). */
export const sortedStringList = z
  .custom<string[]>((value) => Array.isArray(value), { message: 'expected a list of strings', abort: true })
  .superRefine((list, ctx) => {
    const index = findNonString(list, true);
    if (index !== undefined) {
      ctx.addIssue({ code: 'custom', path: [index], message: 'expected distinct strings in ascending order' });
    }
  })
  .meta({ type: 'array', items: { type: 'string' }, uniqueItems: true });

/**
 * `a + b` for counts of text, which stay safe integers: no text holds 2^53 lines or
 * words, and a count beyond that would not be exact.
 * @throws PermanentTaskError when the sum passes `Number.MAX_SAFE_INTEGER`
 */
export function addCounts(a: number, b: number): number {
  const sum = a + b;
  if (sum > Number.MAX_SAFE_INTEGER) {
    throw new PermanentTaskError(`counts add up past 2^53 - 1 (${Number.MAX_SAFE_INTEGER}), beyond which they would not be exact`);
  }
  return sum;
}

/** A list of non-negative safe integers. */
export const countList = z
  .custom<number[]>((value) => Array.isArray(value), { message: 'expected a list of counts', abort: true })
  .superRefine((list, ctx) => {
    const index = findNonCount(list);
    if (index !== undefined) ctx.addIssue({ code: 'custom', path: [index], message: 'expected a non-negative integer' });
  })
  .meta({ type: 'array', items: { type: 'integer', minimum: 0 } });

import { z } from 'zod';
import { countLines, decodeText } from '../files/lines.js';
import { defineTask } from './task-definition.js';
import { addCounts, isTextSplit, sortedStringList, splitOrPartials } from './text-split.js';
import { forEachToken } from './text-tokens.js';

/**
 * A partial result of `text-stats`. The vocabulary is what makes the distinct count
 * exact across splits; it is sorted so that partials merge in linear time.
 */
export const textStatsPartial = z.object({
  words: z.number().int().nonnegative().describe('number of whitespace-separated words'),
  lines: z.number().int().nonnegative().describe('number of lines'),
  vocabulary: sortedStringList.describe('the distinct words, sorted by UTF-16 code units'),
});

/** A partial result of `text-stats`. */
export type TextStatsPartial = z.infer<typeof textStatsPartial>;

/** The final result of `text-stats`. */
export const textStatsResult = z.object({
  words: z.number().int().nonnegative().describe('number of whitespace-separated words'),
  lines: z.number().int().nonnegative().describe('number of lines'),
  distinctWords: z.number().int().nonnegative().describe('number of distinct words (case-sensitive)'),
});

/** The final result of `text-stats`. */
export type TextStatsResult = z.infer<typeof textStatsResult>;

/** Merges two sorted lists of distinct strings into one. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const result: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x < y) {
      result.push(x);
      i++;
    } else if (y < x) {
      result.push(y);
      j++;
    } else {
      result.push(x);
      i++;
      j++;
    }
  }
  while (i < a.length) result.push(a[i++] as string);
  while (j < b.length) result.push(b[j++] as string);
  return result;
}

/** Merges sorted lists pairwise, level by level: O(n log k) for k lists of n strings in all. */
function mergeAllSorted(lists: readonly (readonly string[])[], signal: AbortSignal): readonly string[] {
  let level = lists;
  while (level.length > 1) {
    signal.throwIfAborted();
    const next: (readonly string[])[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const second = level[i + 1];
      next.push(second === undefined ? (level[i] as readonly string[]) : mergeSorted(level[i] as readonly string[], second));
    }
    level = next;
  }
  return level[0] ?? [];
}

function statsOfSplit(bytes: Uint8Array, signal: AbortSignal): TextStatsPartial {
  const distinct = new Set<string>();
  const words = forEachToken(decodeText(bytes), (token) => distinct.add(token), signal);
  return { words, lines: countLines(bytes), vocabulary: [...distinct].sort() };
}

/**
 * `text-stats(input)`: counts words (whitespace-separated tokens, case-sensitive),
 * lines and distinct words. As map it reads a text split, as reduce it merges
 * partials; it returns a {@link TextStatsResult} on the final run and a
 * {@link TextStatsPartial} otherwise.
 */
export const textStatsTask = defineTask({
  name: 'text-stats',
  description:
    'Counts the whitespace-separated words, the lines and the distinct words of text splits (map) ' +
    'or merges such counts (reduce).',
  cpuBound: true,
  args: z.tuple([splitOrPartials(textStatsPartial, 'text-stats')]),
  run: ([input], ctx): TextStatsPartial | TextStatsResult => {
    let partial: TextStatsPartial;
    if (isTextSplit(input)) {
      partial = statsOfSplit(input.bytes, ctx.signal);
    } else {
      let words = 0;
      let lines = 0;
      for (const p of input) {
        words = addCounts(words, p.words);
        lines = addCounts(lines, p.lines);
      }
      const vocabulary = mergeAllSorted(
        input.map((p) => p.vocabulary),
        ctx.signal,
      );
      partial = { words, lines, vocabulary: vocabulary as string[] };
    }
    if (ctx.final === true) return { words: partial.words, lines: partial.lines, distinctWords: partial.vocabulary.length };
    return partial;
  },
});

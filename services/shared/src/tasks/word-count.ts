import { z } from 'zod';
import { decodeText } from '../files/lines.js';
import { defineTask } from './task-definition.js';
import { addCounts, countList, isTextSplit, splitOrPartials, stringList } from './text-split.js';
import type { TextSplit } from './text-split.js';
import { countWords } from './text-tokens.js';
import { rankWords } from './word-ranking.js';

/** Options of `word-count`. */
export const wordCountOptions = z
  .strictObject({
    caseFold: z
      .boolean()
      .optional()
      .describe('count words lowercased with toLowerCase() (default true); applies where the text is read (map)'),
    top: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('keep only this many words, the most frequent first, in the final result (partials stay exact)'),
  })
  .describe('options');

/** Options of `word-count`. */
export type WordCountOptions = z.infer<typeof wordCountOptions>;

/**
 * A partial result of `word-count`: exact counts of every word, as two parallel
 * lists (compact, and safe for any word, unlike object keys), in no particular order.
 */
export const wordCountPartial = z
  .object({
    total: z.number().int().nonnegative().describe('number of words'),
    words: stringList.describe('the distinct words'),
    counts: countList.describe('count of each word, in the order of words'),
    top: z.number().int().positive().optional().describe('the smallest top option seen so far, applied at the end'),
  })
  .refine((partial) => partial.words.length === partial.counts.length, {
    message: 'words and counts must have the same length',
    path: ['counts'],
  });

/** A partial result of `word-count`. */
export type WordCountPartial = z.infer<typeof wordCountPartial>;

/** The final result of `word-count`. */
export const wordCountResult = z.object({
  total: z.number().int().nonnegative().describe('number of words'),
  distinct: z.number().int().nonnegative().describe('number of distinct words (all of them, even when words is cut to top)'),
  words: z
    .array(z.tuple([z.string(), z.number().int().positive()]))
    .describe('[word, count] pairs, by count descending then word ascending (UTF-16 code units)'),
});

/** The final result of `word-count`. */
export type WordCountResult = z.infer<typeof wordCountResult>;

function minTop(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** Words counted so far. */
interface Counted {
  total: number;
  counts: Map<string, number>;
}

function countSplit(split: TextSplit, caseFold: boolean, signal: AbortSignal): Counted {
  const counts = new Map<string, number>();
  const total = countWords(decodeText(split.bytes), counts, signal);
  if (!caseFold) return { total, counts };
  // Fold each distinct spelling once rather than every occurrence.
  const folded = new Map<string, number>();
  for (const [word, count] of counts) {
    const lower = word.toLowerCase();
    folded.set(lower, (folded.get(lower) ?? 0) + count);
  }
  return { total, counts: folded };
}

function mergePartials(partials: readonly WordCountPartial[], signal: AbortSignal): Counted {
  const counts = new Map<string, number>();
  let total = 0;
  for (const partial of partials) {
    signal.throwIfAborted();
    total = addCounts(total, partial.total);
    const { words, counts: wordCounts } = partial;
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as string;
      counts.set(word, addCounts(counts.get(word) ?? 0, wordCounts[i] as number));
    }
  }
  return { total, counts };
}

/**
 * `word-count(input, options?)`: counts words (see `text-tokens.ts` for what a word
 * is). As map it counts a text split, as reduce it merges partials; it returns the
 * user-facing {@link WordCountResult} on the final run and a {@link WordCountPartial}
 * otherwise.
 */
export const wordCountTask = defineTask({
  name: 'word-count',
  description:
    'Counts the words of text splits (map) or merges word counts (reduce); the final result ranks words by count.',
  cpuBound: true,
  args: z.tuple([splitOrPartials(wordCountPartial, 'word-count'), wordCountOptions.optional()]),
  run: ([input, options], ctx): WordCountPartial | WordCountResult => {
    let top = options?.top;
    let counted: Counted;
    if (isTextSplit(input)) {
      counted = countSplit(input, options?.caseFold ?? true, ctx.signal);
    } else {
      counted = mergePartials(input, ctx.signal);
      for (const partial of input) top = minTop(top, partial.top);
    }
    const { total, counts } = counted;
    if (ctx.final === true) return { total, distinct: counts.size, words: rankWords(counts, top) };
    const partial: WordCountPartial = { total, words: [...counts.keys()], counts: [...counts.values()] };
    if (top !== undefined) partial.top = top;
    return partial;
  },
});

import { z } from 'zod';
import { decodeText, iterateTextLines } from '../files/lines.js';
import { compileLinePattern, linePattern, patternFlags } from './line-pattern.js';
import { defineTask, PermanentTaskError } from './task-definition.js';
import { isTextSplit, splitOrPartials } from './text-split.js';
import type { TextSplit } from './text-split.js';

/** Options of `grep`. */
export const grepOptions = z
  .strictObject({
    pattern: linePattern.optional().describe('regular expression in RE2 syntax; required where the text is read (map)'),
    flags: patternFlags.optional(),
    invert: z.boolean().optional().describe('select the lines that do not match (default false)'),
    maxMatches: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('return only the first maxMatches matching lines, in file order (count still counts all of them)'),
  })
  .describe('options');

/** Options of `grep`. */
export type GrepOptions = z.infer<typeof grepOptions>;

/** A matching line within a segment. */
export const segmentMatch = z.object({
  line: z.number().int().positive().describe('line number within the segment, from 1'),
  text: z.string().describe('the line, without its line end'),
});

/** A matching line within a segment. */
export type SegmentMatch = z.infer<typeof segmentMatch>;

function findBadMatch(list: readonly unknown[]): number | undefined {
  for (let i = 0; i < list.length; i++) {
    const item = list[i] as { line?: unknown; text?: unknown } | null;
    if (
      typeof item !== 'object' ||
      item === null ||
      typeof item.text !== 'string' ||
      typeof item.line !== 'number' ||
      !Number.isSafeInteger(item.line) ||
      item.line < 1
    ) {
      return i;
    }
  }
  return undefined;
}

// A hand-written check, like the other large lists of partials (see text-split.ts).
const segmentMatches = z
  .custom<SegmentMatch[]>((value) => Array.isArray(value), { message: 'expected a list of matches', abort: true })
  .superRefine((list, ctx) => {
    const index = findBadMatch(list);
    if (index !== undefined) ctx.addIssue({ code: 'custom', path: [index], message: 'expected { line, text }' });
  })
  .meta({ type: 'array', items: z.toJSONSchema(segmentMatch) });

/**
 * Contiguous lines of one file: a split, or contiguous splits merged. Line numbers
 * are relative to the segment, because a split does not know how many lines come
 * before it; merging offsets them by the lines of the segments before.
 */
export const grepSegment = z.object({
  file: z.string(),
  lines: z.number().int().nonnegative().describe('number of lines in the segment'),
  matches: segmentMatches,
});

/** Contiguous lines of one file and their matches. */
export type GrepSegment = z.infer<typeof grepSegment>;

/** A partial result of `grep`: segments in file order; adjacent segments of the same file merge. */
export const grepPartial = z.object({
  count: z.number().int().nonnegative().describe('number of matching lines, including those not kept'),
  segments: z.array(grepSegment),
  maxMatches: z.number().int().positive().optional().describe('the smallest maxMatches option seen so far'),
});

/** A partial result of `grep`. */
export type GrepPartial = z.infer<typeof grepPartial>;

/** The final result of `grep`. */
export const grepResult = z.object({
  matches: z.array(z.object({ file: z.string(), line: z.number().int().positive(), text: z.string() })),
  count: z.number().int().nonnegative().describe('number of matching lines (more than matches.length when cut by maxMatches)'),
});

/** The final result of `grep`. */
export type GrepResult = z.infer<typeof grepResult>;

const ABORT_MASK = 0xfff;

function minLimit(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function searchSplit(split: TextSplit, options: GrepOptions, limit: number, signal: AbortSignal): GrepPartial {
  if (options.pattern === undefined) throw new PermanentTaskError('grep needs a pattern to search a text split');
  const matches = compileLinePattern(options.pattern, options.flags);
  const invert = options.invert ?? false;
  const found: SegmentMatch[] = [];
  let lines = 0;
  let count = 0;
  for (const text of iterateTextLines(decodeText(split.bytes))) {
    lines++;
    if (matches(text) !== invert) {
      count++;
      if (found.length < limit) found.push({ line: lines, text });
    }
    if ((lines & ABORT_MASK) === 0) signal.throwIfAborted();
  }
  return { count, segments: [{ file: split.file, lines, matches: found }] };
}

function mergePartials(partials: readonly GrepPartial[], limit: number): GrepPartial {
  const segments: GrepSegment[] = [];
  let count = 0;
  let kept = 0;
  for (const partial of partials) {
    count += partial.count;
    for (const segment of partial.segments) {
      // The segment continues the last one when it is of the same file: number its lines after it.
      let target = segments.at(-1);
      if (target?.file !== segment.file) {
        target = { file: segment.file, lines: 0, matches: [] };
        segments.push(target);
      }
      const offset = target.lines;
      for (const match of segment.matches) {
        if (kept >= limit) break;
        target.matches.push({ line: match.line + offset, text: match.text });
        kept++;
      }
      target.lines += segment.lines;
    }
  }
  return { count, segments };
}

function toResult(partial: GrepPartial): GrepResult {
  const matches: GrepResult['matches'] = [];
  for (const segment of partial.segments) {
    for (const match of segment.matches) matches.push({ file: segment.file, line: match.line, text: match.text });
  }
  return { matches, count: partial.count };
}

/**
 * `grep(input, options)`: the lines matching a pattern, with their file and line
 * number (from 1). As map it searches a text split, as reduce it concatenates
 * partials in order, numbering lines across the splits of a file; it returns a
 * {@link GrepResult} on the final run and a {@link GrepPartial} otherwise.
 */
export const grepTask = defineTask({
  name: 'grep',
  description:
    'Finds the lines of text splits that match a regular expression (RE2 syntax, linear time), with their line numbers ' +
    '(map), or merges such results (reduce).',
  cpuBound: true,
  args: z
    .tuple([splitOrPartials(grepPartial, 'grep'), grepOptions.optional()])
    .superRefine(([input, options], ctx) => {
      if (isTextSplit(input) && options?.pattern === undefined) {
        ctx.addIssue({ code: 'custom', path: options === undefined ? [1] : [1, 'pattern'], message: 'a pattern is required' });
      }
    }),
  run: ([input, options = {}], ctx): GrepPartial | GrepResult => {
    let limit = options.maxMatches;
    let partial: GrepPartial;
    if (isTextSplit(input)) {
      partial = searchSplit(input, options, limit ?? Infinity, ctx.signal);
    } else {
      for (const p of input) limit = minLimit(limit, p.maxMatches);
      partial = mergePartials(input, limit ?? Infinity);
    }
    if (ctx.final === true) return toResult(partial);
    if (limit !== undefined) partial.maxMatches = limit;
    return partial;
  },
});

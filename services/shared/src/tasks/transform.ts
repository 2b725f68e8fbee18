import { z } from 'zod';
import { decodeText, iterateTextLines } from '../files/lines.js';
import { compileLinePattern, linePattern } from './line-pattern.js';
import { defineTask } from './task-definition.js';
import { textSplit } from './text-split.js';

/** Options of `transform`; the steps apply in the order match, trim, case change. */
export const transformOptions = z
  .strictObject({
    match: linePattern.optional().describe('keep only the lines that match this regular expression (RE2 syntax)'),
    invert: z.boolean().optional().describe('keep only the lines that do not match (requires match; default false)'),
    trim: z.boolean().optional().describe('remove leading and trailing white space from each line (default false)'),
    lowercase: z.boolean().optional().describe('lowercase each line (default false)'),
    uppercase: z.boolean().optional().describe('uppercase each line (default false)'),
  })
  .refine((options) => !(options.lowercase === true && options.uppercase === true), {
    message: 'lowercase and uppercase exclude each other',
    path: ['uppercase'],
  })
  .refine((options) => options.invert !== true || options.match !== undefined, {
    message: 'invert requires match',
    path: ['invert'],
  })
  .describe('options');

/** Options of `transform`. */
export type TransformOptions = z.infer<typeof transformOptions>;

const ABORT_MASK = 0xfff;

/**
 * `transform(split, options?)`: the lines of a text split, filtered and changed, as
 * one string. Every output line ends with `\n` (CRLF line ends become `\n`, and a
 * last line without a line end gets one); `match` is tested against the line as
 * read, before trimming and case changes. A map-only task.
 */
export const transformTask = defineTask({
  name: 'transform',
  description:
    'Returns the lines of a text split, filtered by a regular expression (RE2 syntax) and optionally trimmed, ' +
    'lowercased or uppercased.',
  cpuBound: true,
  args: z.tuple([textSplit, transformOptions.optional()]),
  run: ([split, options = {}], ctx): string => {
    const matches = options.match === undefined ? undefined : compileLinePattern(options.match);
    const invert = options.invert ?? false;
    const out: string[] = [];
    let index = 0;
    for (let line of iterateTextLines(decodeText(split.bytes))) {
      if ((++index & ABORT_MASK) === 0) ctx.signal.throwIfAborted();
      if (matches !== undefined && matches(line) === invert) continue;
      if (options.trim === true) line = line.trim();
      if (options.lowercase === true) line = line.toLowerCase();
      else if (options.uppercase === true) line = line.toUpperCase();
      out.push(line, '\n');
    }
    return out.join('');
  },
});

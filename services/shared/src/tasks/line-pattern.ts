/**
 * User-supplied regular expressions, matched line by line with `re2js`, a
 * linear-time engine (RE2 syntax): no pattern can make a worker backtrack for hours.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';
import { PermanentTaskError } from './task-definition.js';

/** Longest pattern accepted, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * Largest compiled pattern accepted, in instructions of the matching machine. Matching
 * is linear in the text, but each byte may cost up to this many steps: `.{1000}`
 * compiles to about 1,000, and a short pattern of repeated counts to a hundred times
 * more, which would take minutes per line.
 */
export const MAX_PATTERN_PROGRAM_SIZE = 2000;

/** Whether a line matches. */
export type LineMatcher = (line: string) => boolean;

/** Characters with a meaning in RE2 syntax; a pattern without them is a plain substring. */
const METACHARACTERS = /[\\.+*?()|[\]{}^$]/;

const MAX_CACHED = 64;
const compiled = new Map<string, RE2JS | Error>();
const matchers = new Map<string, LineMatcher>();

/** Remembers `value` under `key`, forgetting everything when the cache is full (patterns rarely vary). */
function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
  return value;
}

/** The compiled pattern, or the error compiling it; cached, since every run of a map task validates its arguments. */
function compile(pattern: string, caseInsensitive: boolean): RE2JS | Error {
  const key = `${caseInsensitive ? 'i' : ''}/${pattern}`;
  const cached = compiled.get(key);
  if (cached !== undefined) return cached;
  let result: RE2JS | Error;
  try {
    result = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
    const size = result.matcher('').programSize();
    if (size > MAX_PATTERN_PROGRAM_SIZE) {
      result = new Error(`the pattern is too complex: it compiles to ${size} instructions, more than ${MAX_PATTERN_PROGRAM_SIZE}`);
    }
  } catch (error) {
    result = error instanceof Error ? error : new Error(String(error));
  }
  return remember(compiled, key, result);
}

/** Why `pattern` does not compile, or undefined when it does. */
export function patternError(pattern: string): string | undefined {
  const result = compile(pattern, false);
  return result instanceof Error ? result.message : undefined;
}

/** A regular expression in RE2 syntax, checked when the arguments are validated. */
export const linePattern = z
  .string()
  .max(MAX_PATTERN_LENGTH)
  .superRefine((pattern, ctx) => {
    const error = patternError(pattern);
    if (error !== undefined) ctx.addIssue({ code: 'custom', message: `invalid pattern: ${error}` });
  })
  .describe('regular expression in RE2 syntax (https://github.com/google/re2/wiki/Syntax), matched against each line');

/** Flags of a pattern: `i` for case-insensitive matching, or none. */
export const patternFlags = z
  .string()
  .regex(/^i?$/, { message: 'the only flag is "i" (case-insensitive)' })
  .describe('"i" for case-insensitive matching');

/**
 * A matcher that tests whether a line contains a match of `pattern`. Plain
 * substrings are searched with `String.prototype.includes`. Compiled matchers are
 * cached per pattern and flags.
 * @throws PermanentTaskError when the pattern does not compile
 */
export function compileLinePattern(pattern: string, flags = ''): LineMatcher {
  const caseInsensitive = flags.includes('i');
  const key = `${caseInsensitive ? 'i' : ''}/${pattern}`;
  const cached = matchers.get(key);
  if (cached !== undefined) return cached;
  if (!caseInsensitive && !METACHARACTERS.test(pattern)) return remember(matchers, key, (line) => line.includes(pattern));
  const re = compile(pattern, caseInsensitive);
  if (re instanceof Error) {
    throw new PermanentTaskError(`invalid pattern ${JSON.stringify(pattern)}: ${re.message}`, { cause: re });
  }
  return remember(matchers, key, (line) => re.test(line));
}

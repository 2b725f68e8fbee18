/**
 * Glob patterns of file inputs, matched in time linear in the name whatever the
 * pattern: each segment becomes an RE2 expression (`re2js`, no backtracking), and
 * `**` is matched segment by segment. Patterns come from users and are matched on the
 * API's event loop against every stored name; a backtracking matcher (a glob turned
 * into a JavaScript regular expression) can take hours on a name of 40 characters.
 *
 * Syntax: `*` (any characters within a segment), `?` (one character), `**` as a whole
 * segment (any number of segments, none included), `[abc]`, `[a-z]`, `[!a-z]` or
 * `[^a-z]` (one character of a set), `{a,b}` (alternatives, nestable). Everything
 * else is literal. As in shells, wildcards do not match a segment starting with `.`:
 * the pattern must start that segment with a literal `.`.
 */
import { RE2JS } from 're2js';

/** Most patterns one `{…}` expansion may produce. */
export const GLOB_MAX_ALTERNATIVES = 256;

const WILDCARDS = /[*?[{]/;

/** Most globs in one input: each is matched against every stored name. */
export const MAX_GLOBS_PER_INPUT = 256;

/** Whether `pattern` has wildcards (else it names one file). */
export function isGlobPattern(pattern: string): boolean {
  return WILDCARDS.test(pattern);
}

/** A pattern that cannot be used, with the reason. */
export class GlobSyntaxError extends Error {
  override readonly name = 'GlobSyntaxError';
}

interface Segment {
  /** `**`: any number of segments. */
  readonly any: boolean;
  /** Matches one segment of a name; absent on a literal segment. */
  readonly re: RE2JS | undefined;
  readonly literal: string;
  /** Whether the segment may match a name segment that starts with `.`. */
  readonly dot: boolean;
}

/** A parsed glob pattern. @see GlobPattern.parse */
export class GlobPattern {
  private constructor(
    /** The pattern as written. */
    readonly source: string,
    /** Whether the pattern has wildcards; a pattern without any names one file. */
    readonly isGlob: boolean,
    /** Leading folders that every match shares (`logs/2026` of `logs/2026/*.txt`), or `''`. */
    readonly base: string,
    /** Most segments a match has below `base`; `Infinity` when the pattern has `**`. */
    readonly depth: number,
    private readonly alternatives: readonly Segment[][],
  ) {}

  /**
   * Parses `pattern`.
   * @throws GlobSyntaxError on an unclosed `[` or `{`, an empty set, or too many alternatives
   */
  static parse(pattern: string): GlobPattern {
    if (!isGlobPattern(pattern)) return new GlobPattern(pattern, false, '', 0, [pattern.split('/').map(literalSegment)]);
    const expanded = expandBraces(pattern);
    const alternatives = expanded.map((p) => p.split('/').map(compileSegment));
    const first = alternatives[0] ?? [];
    let shared = 0;
    while (
      shared < first.length - 1 &&
      alternatives.every((a) => shared < a.length - 1 && a[shared]?.re === undefined && !a[shared]?.any && a[shared]?.literal === first[shared]?.literal)
    ) {
      shared += 1;
    }
    const base = first.slice(0, shared).map((s) => s.literal).join('/');
    const depth = Math.max(...alternatives.map((a) => (a.some((s) => s.any) ? Infinity : a.length - shared)));
    return new GlobPattern(pattern, true, base, depth, alternatives);
  }

  /** Whether `name` (segments separated by `/`) matches. */
  matches(name: string): boolean {
    const parts = name.split('/');
    return this.alternatives.some((segments) => matchSegments(segments, parts));
  }
}

function literalSegment(literal: string): Segment {
  return { any: false, re: undefined, literal, dot: true };
}

function compileSegment(segment: string): Segment {
  if (segment === '**') return { any: true, re: undefined, literal: segment, dot: false };
  if (!WILDCARDS.test(segment)) return literalSegment(segment);
  // By code point: a character beyond the BMP is one character of a name.
  const chars = Array.from(segment);
  const source = translate(chars, 0, chars.length);
  return { any: false, re: RE2JS.compile(`^(?:${source})$`, RE2JS.DOTALL), literal: segment, dot: segment.startsWith('.') };
}

/** The RE2 form of `chars[from, to)`, a piece of one folder of a pattern. */
function translate(chars: readonly string[], from: number, to: number): string {
  let source = '';
  for (let i = from; i < to; i++) {
    const char = chars[i] as string;
    if (char === '*') {
      // `**` inside a folder is a plain `*`.
      while (i + 1 < to && chars[i + 1] === '*') i += 1;
      source += '.*';
    } else if (char === '?') {
      source += '.';
    } else if (char === '[') {
      const end = setEnd(chars, i, to);
      source += characterSet(chars, i, end);
      i = end;
    } else if (char === '{') {
      const group = braceGroup(chars, i, to);
      if (group === undefined) {
        source += literalChar(char);
      } else {
        // Alternatives within a folder are one RE2 alternation: no expansion needed.
        source += `(?:${group.alternatives.map(([a, b]) => translate(chars, a, b)).join('|')})`;
        i = group.close;
      }
    } else {
      source += literalChar(char);
    }
  }
  return source;
}

/** Index of the `]` closing the set that opens at `chars[start]`. */
function setEnd(chars: readonly string[], start: number, to: number): number {
  let i = start + 1;
  if (chars[i] === '!' || chars[i] === '^') i += 1;
  // A `]` right after the opening (or its negation) is a member, as in shells.
  if (chars[i] === ']') i += 1;
  while (i < to && chars[i] !== ']') i += 1;
  if (i >= to) throw new GlobSyntaxError('a "[" is not closed by "]"');
  return i;
}

/** The set `chars[start..end]` (from `[` to `]`) as an RE2 class. */
function characterSet(chars: readonly string[], start: number, end: number): string {
  let i = start + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i += 1;
  const items: string[] = [];
  while (i < end) {
    const low = (chars[i] as string).codePointAt(0) as number;
    if (chars[i + 1] === '-' && i + 2 < end) {
      const high = (chars[i + 2] as string).codePointAt(0) as number;
      if (high < low) throw new GlobSyntaxError(`the range ${String.fromCodePoint(low)}-${String.fromCodePoint(high)} is reversed`);
      items.push(`${hex(low)}-${hex(high)}`);
      i += 3;
    } else {
      items.push(hex(low));
      i += 1;
    }
  }
  return `[${negated ? '^' : ''}${items.join('')}]`;
}

const hex = (codePoint: number): string => `\\x{${codePoint.toString(16)}}`;

function literalChar(char: string): string {
  return /[A-Za-z0-9_]/.test(char) ? char : hex(char.codePointAt(0) as number);
}

/** A `{…}` with a comma at its own level: where it closes, and its alternatives as ranges. */
interface BraceGroup {
  readonly close: number;
  readonly alternatives: readonly (readonly [number, number])[];
}

/**
 * The group opening at `chars[open]`, or `undefined` when it has no comma (then it is
 * literal). Sets inside are skipped, so `[{,}]` is a set.
 * @throws GlobSyntaxError when it is not closed
 */
function braceGroup(chars: readonly string[], open: number, to: number): BraceGroup | undefined {
  let depth = 0;
  const bounds = [open];
  for (let i = open; i < to; i++) {
    const char = chars[i];
    if (char === '[') i = setEnd(chars, i, to);
    else if (char === '{') depth += 1;
    else if (char === '}' && --depth === 0) {
      if (bounds.length === 1) return undefined;
      bounds.push(i);
      return { close: i, alternatives: bounds.slice(0, -1).map((b, k) => [b + 1, bounds[k + 1] as number] as const) };
    } else if (char === ',' && depth === 1) bounds.push(i);
  }
  throw new GlobSyntaxError('a "{" is not closed by "}"');
}

/**
 * The patterns a pattern stands for once its `{…}` groups that cross folders are
 * expanded — those with a `/` inside, or at the start of a folder with an alternative
 * starting with `.` (which decides whether hidden names match): `x/{a,b/c}` is
 * `x/a` and `x/b/c`. Groups within one folder stay, as alternations.
 */
function expandBraces(pattern: string): string[] {
  const done: string[] = [];
  const pending = [Array.from(pattern)];
  while (pending.length > 0) {
    const chars = pending.shift() as string[];
    const group = groupToExpand(chars);
    if (group === undefined) {
      done.push(chars.join(''));
      continue;
    }
    const [open] = group.alternatives[0] ?? [0];
    const head = chars.slice(0, open - 1);
    const tail = chars.slice(group.close + 1);
    for (const [a, b] of group.alternatives) pending.push([...head, ...chars.slice(a, b), ...tail]);
    if (done.length + pending.length > GLOB_MAX_ALTERNATIVES) {
      throw new GlobSyntaxError(`a pattern stands for at most ${GLOB_MAX_ALTERNATIVES} alternatives`);
    }
  }
  return done;
}

/** The first group of `chars` that must be expanded (see {@link expandBraces}). */
function groupToExpand(chars: readonly string[]): BraceGroup | undefined {
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '[') {
      i = setEnd(chars, i, chars.length);
      continue;
    }
    if (chars[i] !== '{') continue;
    const group = braceGroup(chars, i, chars.length);
    if (group === undefined) continue;
    const crossesFolders = chars.slice(i, group.close).includes('/');
    const decidesDot = (i === 0 || chars[i - 1] === '/') && group.alternatives.some(([a]) => chars[a] === '.');
    if (crossesFolders || decidesDot) return group;
    i = group.close;
  }
  return undefined;
}

/**
 * Whether the name's segments match the pattern's: one pass over the name per
 * position reached in the pattern, so `**` costs at most segments × segments steps.
 */
function matchSegments(segments: readonly Segment[], parts: readonly string[]): boolean {
  // reached[j]: the pattern's first `i` segments can match the name's first `j`.
  let reached = new Array<boolean>(parts.length + 1).fill(false);
  reached[0] = true;
  for (const segment of segments) {
    const next = new Array<boolean>(parts.length + 1).fill(false);
    for (let j = 0; j <= parts.length; j++) {
      if (!reached[j]) continue;
      if (segment.any) {
        next[j] = true;
        // `**` goes on over segments that are not hidden.
        for (let k = j; k < parts.length && !(parts[k] as string).startsWith('.'); k++) next[k + 1] = true;
      } else if (j < parts.length && matchOne(segment, parts[j] as string)) {
        next[j + 1] = true;
      }
    }
    reached = next;
  }
  return reached[parts.length] === true;
}

function matchOne(segment: Segment, part: string): boolean {
  if (segment.re === undefined) return segment.literal === part;
  if (part.startsWith('.') && !segment.dot) return false;
  return segment.re.matches(part);
}

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
    if (!WILDCARDS.test(pattern)) return new GlobPattern(pattern, false, '', 0, [pattern.split('/').map(literalSegment)]);
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
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === '*') {
      // `**` inside a segment is a plain `*`.
      while (segment[i + 1] === '*') i += 1;
      source += '.*';
    } else if (char === '?') {
      source += '.';
    } else if (char === '[') {
      const { regex, end } = characterSet(segment, i);
      source += regex;
      i = end;
    } else {
      source += literalChar(char);
    }
  }
  return { any: false, re: RE2JS.compile(`^(?:${source})$`, RE2JS.DOTALL), literal: segment, dot: segment.startsWith('.') };
}

/** The set starting at `segment[start]` (a `[`), as an RE2 class, and the index of its `]`. */
function characterSet(segment: string, start: number): { regex: string; end: number } {
  let i = start + 1;
  const negated = segment[i] === '!' || segment[i] === '^';
  if (negated) i += 1;
  const items: string[] = [];
  // A `]` right after the opening (or its negation) is a member, as in shells.
  for (let first = true; i < segment.length && (first || segment[i] !== ']'); first = false) {
    const low = segment.codePointAt(i) as number;
    i += low > 0xffff ? 2 : 1;
    if (segment[i] === '-' && i + 1 < segment.length && segment[i + 1] !== ']') {
      const high = segment.codePointAt(i + 1) as number;
      i += high > 0xffff ? 3 : 2;
      if (high < low) throw new GlobSyntaxError(`the range ${String.fromCodePoint(low)}-${String.fromCodePoint(high)} is reversed`);
      items.push(`${hex(low)}-${hex(high)}`);
    } else {
      items.push(hex(low));
    }
  }
  if (i >= segment.length) throw new GlobSyntaxError('a "[" is not closed by "]"');
  return { regex: `[${negated ? '^' : ''}${items.join('')}]`, end: i };
}

const hex = (codePoint: number): string => `\\x{${codePoint.toString(16)}}`;

function literalChar(char: string): string {
  return /[A-Za-z0-9_]/.test(char) ? char : hex(char.codePointAt(0) as number);
}

/**
 * The patterns `{a,b}` alternatives stand for, outermost first: `x{a,b{c,d}}` is
 * `xa`, `xbc`, `xbd`. A `{…}` without a comma is literal.
 */
function expandBraces(pattern: string): string[] {
  const done: string[] = [];
  const pending = [pattern];
  while (pending.length > 0) {
    const next = pending.shift() as string;
    const group = firstGroup(next);
    if (group === undefined) {
      done.push(next);
      continue;
    }
    const { open, close, commas } = group;
    const head = next.slice(0, open);
    const tail = next.slice(close + 1);
    const bounds = [open, ...commas, close];
    for (let k = 0; k + 1 < bounds.length; k++) {
      pending.push(head + next.slice((bounds[k] as number) + 1, bounds[k + 1]) + tail);
    }
    if (done.length + pending.length > GLOB_MAX_ALTERNATIVES) {
      throw new GlobSyntaxError(`a pattern stands for at most ${GLOB_MAX_ALTERNATIVES} alternatives`);
    }
  }
  return done;
}

/** The first `{…}` with a comma at its own level, or `undefined`. */
function firstGroup(pattern: string): { open: number; close: number; commas: number[] } | undefined {
  for (let open = pattern.indexOf('{'); open !== -1; open = pattern.indexOf('{', open + 1)) {
    let depth = 0;
    const commas: number[] = [];
    for (let i = open; i < pattern.length; i++) {
      const char = pattern[i];
      if (char === '{') depth += 1;
      else if (char === '}' && --depth === 0) {
        if (commas.length > 0) return { open, close: i, commas };
        break;
      } else if (char === ',' && depth === 1) commas.push(i);
    }
    if (depth > 0) throw new GlobSyntaxError('a "{" is not closed by "}"');
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

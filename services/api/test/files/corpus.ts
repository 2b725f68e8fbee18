/**
 * Generated text corpora and independent single-pass computations of what the text
 * tasks produce, for checking distributed results against.
 */

const VOCABULARY = [
  'the', 'The', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'été', 'naïve', 'Café', 'café', 'über',
  'straße', '中文', '東京', 'don\'t', 'rock\'n\'roll', 'dogs\'', '2026', 'x1', 'año', 'Ελλάδα', 'emoji😀word', 'co-op',
];

/** A deterministic pseudo-random generator (LCG), so failures reproduce. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Options of {@link generateText}. */
export interface TextOptions {
  readonly lines: number;
  readonly seed: number;
  /** End lines with CRLF instead of LF. */
  readonly crlf?: boolean;
  /** Leave the last line without a newline. */
  readonly noTrailingNewline?: boolean;
  /** Put one line this long (in words) in the middle. */
  readonly longLineWords?: number;
}

/** Lines of words from a small vocabulary with accents, CJK, digits and apostrophes; some empty lines. */
export function generateText(options: TextOptions): string {
  const next = random(options.seed);
  const eol = options.crlf ? '\r\n' : '\n';
  const lines: string[] = [];
  for (let i = 0; i < options.lines; i++) {
    const count = i === options.lines >> 1 && options.longLineWords ? options.longLineWords : Math.floor(next() * 12);
    const words: string[] = [];
    for (let w = 0; w < count; w++) words.push(VOCABULARY[Math.floor(next() * VOCABULARY.length)] as string);
    lines.push(words.join(next() < 0.1 ? '  \t' : ' '));
  }
  const text = lines.join(eol);
  return options.noTrailingNewline || lines.length === 0 ? text : text + eol;
}

/** Lines of a text as the tasks see them: split on LF, a trailing CR dropped, no line after a final LF. */
export function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** `word-count` computed in one pass over whole texts, with a regular expression. */
export function expectedWordCount(texts: readonly string[]): { total: number; distinct: number; words: [string, number][] } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const text of texts) {
    for (const match of text.matchAll(/[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu)) {
      const word = match[0].toLowerCase();
      counts.set(word, (counts.get(word) ?? 0) + 1);
      total++;
    }
  }
  const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { total, distinct: counts.size, words };
}

/** `text-stats` computed in one pass. */
export function expectedTextStats(texts: readonly string[]): { words: number; lines: number; distinctWords: number } {
  const distinct = new Set<string>();
  let words = 0;
  let lines = 0;
  for (const text of texts) {
    lines += linesOf(text).length;
    for (const token of text.split(/\s+/)) {
      if (token === '') continue;
      words++;
      distinct.add(token);
    }
  }
  return { words, lines, distinctWords: distinct.size };
}

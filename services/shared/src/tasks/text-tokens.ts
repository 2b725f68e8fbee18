/**
 * Tokenizers of the text tasks: hand-written scanners over a decoded split, with
 * table lookups instead of a regular expression per token.
 *
 * - A **word** (`word-count`) is a maximal run of Unicode letters, marks and digits
 *   (`\p{L}`, `\p{M}`, `\p{N}`), where an apostrophe (`'` U+0027 or `’` U+2019) with
 *   such a character on both sides joins the runs: `don't` and `rock'n'roll` are one
 *   word each, `dogs'` is `dogs` and `'tis` is `tis`; `a''b`, `co-op` and `snake_case`
 *   are two words each. The regular expression
 *   `[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*` (flags `gu`) finds the same words.
 * - A **token** (`text-stats`) is a maximal run of characters that are not
 *   whitespace in the sense of the regular expression `\s` (Unicode white space,
 *   line terminators and U+FEFF).
 */

const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const APOSTROPHE = 0x27;
const RIGHT_SINGLE_QUOTE = 0x2019;

/** Per UTF-16 code unit: 0 not yet classified, 1 word character, 2 other. Filled lazily outside ASCII. */
const bmpWordClass = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) bmpWordClass[c] = WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
for (let c = 0xd800; c < 0xe000; c++) bmpWordClass[c] = 2; // surrogates: handled as pairs
const astralWordClass = new Map<number, boolean>();

/** Length in code units (1 or 2) of the word character at `i`, or 0 when there is none. */
function wordCharAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  let cls = bmpWordClass[c] as number;
  if (cls === 1) return 1;
  if (cls === 0) {
    cls = WORD_CHAR.test(String.fromCharCode(c)) ? 1 : 2;
    bmpWordClass[c] = cls;
    return cls === 1 ? 1 : 0;
  }
  if (c < 0xd800 || c > 0xdbff) return 0;
  const low = text.charCodeAt(i + 1);
  if (!(low >= 0xdc00 && low <= 0xdfff)) return 0;
  const codePoint = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
  let isWord = astralWordClass.get(codePoint);
  if (isWord === undefined) {
    isWord = WORD_CHAR.test(String.fromCodePoint(codePoint));
    astralWordClass.set(codePoint, isWord);
  }
  return isWord ? 2 : 0;
}

/** How often the scanners check their abort signal, in tokens (a power of two minus one, used as a mask). */
const ABORT_MASK = 0xffff;

/**
 * Counts the words of `text` (see the module comment) into `counts`, as written
 * (no case folding). Returns the number of words.
 */
export function countWords(text: string, counts: Map<string, number>, signal?: AbortSignal): number {
  const n = text.length;
  let total = 0;
  let i = 0;
  while (i < n) {
    let width = wordCharAt(text, i);
    if (width === 0) {
      i++;
      continue;
    }
    const start = i;
    i += width;
    while (i < n) {
      width = wordCharAt(text, i);
      if (width > 0) {
        i += width;
        continue;
      }
      const c = text.charCodeAt(i);
      if ((c === APOSTROPHE || c === RIGHT_SINGLE_QUOTE) && i + 1 < n) {
        width = wordCharAt(text, i + 1);
        if (width > 0) {
          i += 1 + width;
          continue;
        }
      }
      break;
    }
    const word = text.slice(start, i);
    counts.set(word, (counts.get(word) ?? 0) + 1);
    if ((++total & ABORT_MASK) === 0) signal?.throwIfAborted();
  }
  return total;
}

/** Code units that `\s` matches (all in the BMP). */
const whitespace = new Uint8Array(0x10000);
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]) {
  whitespace[c] = 1;
}
for (let c = 0x2000; c <= 0x200a; c++) whitespace[c] = 1;

/**
 * Calls `onToken` for every whitespace-separated token of `text` (see the module
 * comment), in order. Returns the number of tokens.
 */
export function forEachToken(text: string, onToken: (token: string) => void, signal?: AbortSignal): number {
  const n = text.length;
  let total = 0;
  let i = 0;
  while (i < n) {
    if (whitespace[text.charCodeAt(i)] === 1) {
      i++;
      continue;
    }
    const start = i;
    i++;
    while (i < n && whitespace[text.charCodeAt(i)] !== 1) i++;
    onToken(text.slice(start, i));
    if ((++total & ABORT_MASK) === 0) signal?.throwIfAborted();
  }
  return total;
}

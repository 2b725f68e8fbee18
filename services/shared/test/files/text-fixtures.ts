/**
 * Generated texts and split-reading helpers shared by the file and text task tests.
 */
import { memoryByteSource, planByteSplits, readLineAlignedRange } from '../../src/files/index.js';
import type { ByteSource } from '../../src/files/index.js';

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same texts. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random element of a non-empty list. */
export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** Words and separators that exercise the text tasks: accents, CJK, emoji, digits, apostrophes. */
export const VOCABULARY = [
  'the', 'The', 'THE', 'été', 'Été', 'naïve', 'NAÏVE', 'café', 'don\'t', 'Don’t', 'rock\'n\'roll', 'dogs\'',
  '\'tis', '中文', '東京', '数据', '2026', '42', 'x1', 'über', 'Straße', 'ß', 'İstanbul', 'e\u0301', '😀', 'a😀b',
  'error', 'warning', 'aaaa', 'alpha-beta', 'snake_case', 'co-op', '–', '...', 'mixed123abc', '𠀋', 'Ωmega',
];
const SEPARATORS = [' ', ' ', ' ', '  ', '\t', ', ', '. ', ' — ', '\u00a0', '\u3000', '"', '(', ')'];

/** Options of {@link generateText}. */
export interface TextShape {
  readonly lines: number;
  /** Most words on a line. */
  readonly maxWords: number;
  /** Share of lines that end with CRLF instead of LF. */
  readonly crlf?: number;
  /** Share of empty lines. */
  readonly empty?: number;
  /** Whether the text ends with a line end. */
  readonly trailingNewline?: boolean;
}

/** A random text of `shape.lines` lines of words from {@link VOCABULARY}. */
export function generateText(seed: number, shape: TextShape): string {
  const rand = random(seed);
  const parts: string[] = [];
  for (let i = 0; i < shape.lines; i++) {
    if (rand() >= (shape.empty ?? 0.1)) {
      const count = 1 + Math.floor(rand() * shape.maxWords);
      for (let w = 0; w < count; w++) {
        if (w > 0) parts.push(pick(rand, SEPARATORS));
        parts.push(pick(rand, VOCABULARY));
      }
    }
    const last = i === shape.lines - 1;
    if (!last || (shape.trailingNewline ?? true)) parts.push(rand() < (shape.crlf ?? 0.2) ? '\r\n' : '\n');
  }
  return parts.join('');
}

/** A recorded `read` call. */
export interface ReadCall {
  readonly offset: number;
  readonly length: number;
}

/** An in-memory source that records every read and can cap the bytes a read returns (to simulate short reads). */
export function recordingSource(bytes: Uint8Array, maxReturn = Infinity): ByteSource & { readonly calls: ReadCall[] } {
  const inner = memoryByteSource(bytes);
  const calls: ReadCall[] = [];
  return {
    size: inner.size,
    calls,
    read: async (offset, length, signal) => {
      calls.push({ offset, length });
      const data = await inner.read(offset, length, signal);
      return data.subarray(0, Math.min(data.length, maxReturn));
    },
  };
}

/** The owned bytes of every split of `bytes`, cut every `splitBytes` bytes. */
export async function readSplits(bytes: Uint8Array, splitBytes: number, chunkBytes?: number): Promise<Uint8Array[]> {
  const source = memoryByteSource(bytes);
  return await Promise.all(
    planByteSplits(bytes.length, { splitBytes }).map(({ start, end }) =>
      readLineAlignedRange(source, start, end, chunkBytes === undefined ? {} : { chunkBytes }),
    ),
  );
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const result = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

/** Split sizes from one byte to the whole text: small sizes (shorter than most lines), then a spread up to `length`. */
export function splitSizes(length: number): number[] {
  const sizes = new Set<number>();
  for (const size of [1, 2, 3, 4, 5, 7, 9, 12, 17, 31, 64, 100, 257, 1000, 4096]) if (size < length) sizes.add(size);
  for (const divisor of [7, 3, 2]) sizes.add(Math.max(1, Math.ceil(length / divisor)));
  sizes.add(Math.max(1, length));
  return [...sizes].sort((a, b) => a - b);
}

export const encoder = new TextEncoder();

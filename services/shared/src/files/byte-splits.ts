/**
 * Cutting a file into byte ranges, one per map task.
 */

/** Bytes per split when neither `splitBytes` nor `splits` is given: 8 MiB. */
export const DEFAULT_SPLIT_BYTES = 8 * 1024 * 1024;

/**
 * Most bytes a split may hold, its last line finished included: 512 MiB less 64 KiB.
 * Decoded, a split is at most as many characters as it has bytes, and V8's longest
 * string is 24 characters short of 512 Mi: a split of 512 MiB could not be decoded.
 */
export const MAX_SPLIT_BYTES = 512 * 1024 * 1024 - 64 * 1024;

/** A half-open byte range of a file: `start` inclusive, `end` exclusive. */
export interface ByteSplit {
  readonly start: number;
  readonly end: number;
}

/** How to cut a file; `splitBytes` wins when both are given. */
export interface ByteSplitOptions {
  /** Bytes per split (the last one may be shorter). @default DEFAULT_SPLIT_BYTES (8 MiB) */
  readonly splitBytes?: number;
  /** Number of splits, of sizes differing by at most one byte (fewer when the file has fewer bytes). */
  readonly splits?: number;
}

function checkPositiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Cuts `[0, size)` into contiguous, non-empty byte ranges, in order. An empty file
 * has no splits (an empty list). The cuts ignore line boundaries: read each split
 * with {@link readLineAlignedRange} to get whole lines.
 * @param size file size in bytes
 * @throws RangeError when `size` is not a non-negative integer or an option is not a positive integer
 */
export function planByteSplits(size: number, options: ByteSplitOptions = {}): ByteSplit[] {
  if (!(Number.isSafeInteger(size) && size >= 0)) throw new RangeError(`size must be a non-negative integer, got ${size}`);
  checkPositiveInteger('splitBytes', options.splitBytes);
  checkPositiveInteger('splits', options.splits);
  const result: ByteSplit[] = [];
  if (size === 0) return result;
  if (options.splitBytes === undefined && options.splits !== undefined) {
    // Even cuts: the first `size % count` splits get one byte more.
    const count = Math.min(options.splits, size);
    const base = Math.floor(size / count);
    const extra = size % count;
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = start + base + (i < extra ? 1 : 0);
      result.push({ start, end });
      start = end;
    }
    return result;
  }
  const splitBytes = options.splitBytes ?? DEFAULT_SPLIT_BYTES;
  for (let start = 0; start < size; start += splitBytes) result.push({ start, end: Math.min(start + splitBytes, size) });
  return result;
}

/**
 * `Range` request headers (RFC 9110 §14): one byte range is served; anything else
 * gets the whole file.
 */
import { RangeNotSatisfiableError } from '@weft/shared';

/** A byte range to send: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The range `header` asks for in a file of `size` bytes; `undefined` for the whole
 * file (no header, another unit, several ranges, or a syntax this server ignores).
 * @throws RangeNotSatisfiableError when the one range asked for lies beyond the file
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // A suffix: the last N bytes, none of which an empty file has.
    const length = Number(last);
    if (length === 0 || size === 0) throw new RangeNotSatisfiableError(header, size);
    return { start: Math.max(0, size - length), end: size };
  }
  const start = Number(first);
  // A last position before the first makes the range invalid: it is ignored.
  if (last !== '' && Number(last) < start) return undefined;
  const end = last === '' ? size : Math.min(size, Number(last) + 1);
  if (start >= size) throw new RangeNotSatisfiableError(header, size);
  return { start, end };
}

/**
 * Whether a `Range` request applies given its `If-Range` header: only while the file
 * is still the one the client has part of, by its entity tag (compared strongly) or
 * its exact modification date; otherwise the whole file is sent.
 */
export function rangeApplies(ifRange: string | string[] | undefined, current: { readonly etag: string; readonly lastModified: string }): boolean {
  if (ifRange === undefined) return true;
  // Several validators: none can be trusted to match.
  if (typeof ifRange !== 'string') return false;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === current.etag;
  return value === current.lastModified;
}

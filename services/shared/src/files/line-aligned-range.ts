/**
 * Reading the whole lines a byte range owns.
 *
 * Ownership follows Hadoop's text input format: a line belongs to the split that
 * contains its first byte. A split `[start, end)` therefore skips the line it starts
 * in the middle of (unless byte `start - 1` is a newline: then a line starts exactly
 * at `start`) and reads past `end` to finish its last line. Over any set of splits
 * that cover a file contiguously, every line is returned exactly once, and the
 * splits' bytes concatenated in order are the file.
 *
 * Cuts only ever happen just after a `\n` byte, which never occurs inside a
 * multi-byte UTF-8 sequence, so each split's bytes decode on their own.
 */
import { SplitTooLargeError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { MAX_SPLIT_BYTES } from './byte-splits.js';

/** Bytes read from the source per call: 64 KiB. */
export const DEFAULT_READ_CHUNK_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

/** Options of {@link readLineAlignedChunks} and {@link readLineAlignedRange}. */
export interface LineAlignedReadOptions {
  /** Bytes asked of the source per read. @default DEFAULT_READ_CHUNK_BYTES (64 KiB) */
  readonly chunkBytes?: number;
  /** Stops reading (the read rejects with the signal's reason) when aborted. */
  readonly signal?: AbortSignal;
}

/** Options of {@link readLineAlignedRange}. */
export interface LineAlignedRangeOptions extends LineAlignedReadOptions {
  /** Most bytes to collect. @default MAX_SPLIT_BYTES (512 MiB less 64 KiB) */
  readonly maxBytes?: number;
}

function checkRange(size: number, start: number, end: number, chunkBytes: number): void {
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start)) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
  if (end > size) throw new RangeError(`byte range [${start}, ${end}) ends past the end of the source (${size} bytes)`);
  if (!(Number.isSafeInteger(chunkBytes) && chunkBytes > 0)) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
}

/**
 * Yields, in order, the bytes of the lines owned by `[start, end)` (see the module
 * comment), at most about `chunkBytes` at a time, so memory stays bounded however
 * long the lines are. Reads begin at `start - 1` and stop at the first newline at
 * or after `end - 1` (or at the end of the source). A split that lies inside one
 * line reads only its own range and yields nothing. Yielded arrays may share memory
 * with what the source returned; they are never empty.
 * @param start first byte of the split (inclusive)
 * @param end end of the split (exclusive), at most `source.size`
 * @throws RangeError for a range outside the source
 */
export async function* readLineAlignedChunks(
  source: ByteSource,
  start: number,
  end: number,
  options: LineAlignedReadOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_READ_CHUNK_BYTES;
  const size = source.size;
  checkRange(size, start, end, chunkBytes);
  if (start === end) return;
  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    signal?.throwIfAborted();
    return await source.read(offset, length, signal);
  };
  // The last owned line is the one holding byte `end - 1`.
  const last = end - 1;

  // Bytes already read that start at `lineStart`, when the search below read them.
  let pending: Uint8Array | undefined;
  let position = 0;
  if (start > 0) {
    // The first owned line starts just after the first newline in [start - 1, end - 1);
    // with none there, every line touching the split started before it.
    let offset = start - 1;
    for (;;) {
      if (offset >= last) return;
      const chunk = await read(offset, Math.min(chunkBytes, last - offset));
      if (chunk.length === 0) return;
      const newline = chunk.indexOf(NEWLINE);
      if (newline >= 0) {
        position = offset + newline + 1;
        if (newline + 1 < chunk.length) pending = chunk.subarray(newline + 1);
        break;
      }
      offset += chunk.length;
    }
  }

  // From `position`: everything before `last`, then up to the first newline at or after it.
  while (position < size) {
    const chunk = pending ?? (await read(position, chunkBytes));
    pending = undefined;
    if (chunk.length === 0) return;
    const scanFrom = last - position;
    if (scanFrom < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, Math.max(0, scanFrom));
      if (newline >= 0) {
        yield chunk.subarray(0, newline + 1);
        return;
      }
    }
    yield chunk;
    position += chunk.length;
  }
}

/**
 * The bytes of the lines owned by `[start, end)`, in one array (see
 * {@link readLineAlignedChunks}). Empty when the split owns no line. The result may
 * share memory with what the source returned.
 * @param start first byte of the split (inclusive)
 * @param end end of the split (exclusive), at most `source.size`
 * @throws RangeError for a range outside the source
 * @throws SplitTooLargeError when the lines hold more than `maxBytes`
 */
export async function readLineAlignedRange(
  source: ByteSource,
  start: number,
  end: number,
  options: LineAlignedRangeOptions = {},
): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? MAX_SPLIT_BYTES;
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of readLineAlignedChunks(source, start, end, options)) {
    chunks.push(chunk);
    length += chunk.length;
    if (length > maxBytes) {
      throw new SplitTooLargeError(`the lines of bytes ${start}-${end - 1} hold more than ${maxBytes} bytes: a line is too long`);
    }
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const result = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

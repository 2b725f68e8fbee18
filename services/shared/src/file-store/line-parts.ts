/**
 * Cutting a byte stream into line-aligned parts, as files are stored.
 */

/** One part of a stream. */
export interface LinePart {
  readonly bytes: Uint8Array;
  /** True when the part ends inside a line (the line is longer than `maxBytes`). */
  readonly cut: boolean;
}

const NEWLINE = 0x0a;

/**
 * Cuts `source` into parts that end at line ends: each part ends at the last newline
 * within its first `targetBytes`; when the first `targetBytes` hold no newline, at the
 * first newline within `maxBytes`; when there is none either, after `maxBytes`
 * (a cut part). The concatenation of the parts is `source`, byte for byte; memory
 * stays within about `maxBytes` plus one chunk of the source.
 */
export async function* lineAlignedParts(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  targetBytes: number,
  maxBytes: number,
): AsyncGenerator<LinePart> {
  if (!(targetBytes >= 1 && maxBytes >= targetBytes)) throw new RangeError('need 1 <= targetBytes <= maxBytes');
  // Chunks are collected and joined once per part (joining on every chunk would copy
  // each part many times over).
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    if (chunk.byteLength === 0) continue;
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    if (pendingBytes <= targetBytes) continue;
    let buffer = join(pending, pendingBytes);
    while (buffer.byteLength >= maxBytes || (buffer.byteLength > targetBytes && hasNewlineFrom(buffer, targetBytes))) {
      const end = partEnd(buffer, targetBytes, maxBytes);
      yield { bytes: buffer.subarray(0, end.at), cut: end.cut };
      buffer = buffer.subarray(end.at);
    }
    pending = buffer.byteLength > 0 ? [buffer] : [];
    pendingBytes = buffer.byteLength;
  }
  // The rest: whole lines, or a last line without a trailing newline.
  if (pendingBytes > 0) yield { bytes: join(pending, pendingBytes), cut: false };
}

function hasNewlineFrom(buffer: Uint8Array, from: number): boolean {
  return buffer.indexOf(NEWLINE, from) >= 0 || buffer.lastIndexOf(NEWLINE, from - 1) >= 0;
}

/** Where the next part ends in `buffer` (which holds more than `targetBytes`). */
function partEnd(buffer: Uint8Array, targetBytes: number, maxBytes: number): { at: number; cut: boolean } {
  const last = buffer.lastIndexOf(NEWLINE, targetBytes - 1);
  if (last >= 0) return { at: last + 1, cut: false };
  const first = buffer.indexOf(NEWLINE, targetBytes);
  if (first >= 0 && first < maxBytes) return { at: first + 1, cut: false };
  return { at: Math.min(maxBytes, buffer.byteLength), cut: true };
}

function join(chunks: Uint8Array[], bytes: number): Uint8Array {
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, bytes);
}

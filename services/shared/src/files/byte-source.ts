/**
 * Random access to the bytes of a file, wherever it is stored.
 */

/** Something whose bytes can be read at any offset: a local file, an object in a store, a buffer. */
export interface ByteSource {
  /** Size in bytes. */
  readonly size: number;
  /**
   * Reads `length` bytes starting at byte `offset`. Returns fewer bytes only when
   * the end of the source comes first (none at or past the end). The returned array
   * may share memory with the source: callers must not modify it.
   */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A {@link ByteSource} over bytes held in memory; reads return views, not copies. */
export function memoryByteSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length, signal) => {
      signal?.throwIfAborted();
      const from = Math.min(Math.max(0, offset), bytes.length);
      return Promise.resolve(bytes.subarray(from, Math.min(from + Math.max(0, length), bytes.length)));
    },
  };
}

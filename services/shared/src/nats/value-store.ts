import type { ObjectStore } from '@nats-io/obj';
import { ValueNotFoundError } from '../errors.js';
import { decodeWire, encodeWire } from '../json-codec.js';
import type { StoredValue } from '../messages.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Keeps values small enough for NATS: a value whose encoding exceeds
 * `inlineMaxBytes` is written to the object store and passed around by reference.
 */
export class ValueStore {
  constructor(
    private readonly blobs: ObjectStore,
    /** Largest value kept inline, in bytes. */
    readonly inlineMaxBytes: number,
  ) {}

  /**
   * Wraps `value` for a message or KV entry, spilling it to the object store under
   * `name` when its encoding is larger than `inlineMaxBytes` (by default the store's).
   */
  async store(value: unknown, name: string, inlineMaxBytes: number = this.inlineMaxBytes): Promise<StoredValue> {
    const text = encodeWire(value);
    if (text.length * 3 <= inlineMaxBytes || encoder.encode(text).byteLength <= inlineMaxBytes) {
      return { v: value };
    }
    const bytes = encoder.encode(text);
    await this.blobs.putBlob({ name }, bytes);
    return { ref: name, bytes: bytes.byteLength };
  }

  /** Resolves a stored value back to the value. @throws ValueNotFoundError when its object is gone */
  async load(stored: StoredValue): Promise<unknown> {
    if ('v' in stored) return stored.v;
    const bytes = await this.blobs.getBlob(stored.ref);
    if (bytes === null) throw new ValueNotFoundError(`stored value "${stored.ref}" not found`);
    return decodeWire(decoder.decode(bytes));
  }

  /** Deletes the object behind a stored value, if any. */
  async discard(stored: StoredValue): Promise<void> {
    if ('ref' in stored) await this.blobs.delete(stored.ref).catch(() => undefined);
  }
}

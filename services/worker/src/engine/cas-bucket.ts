import type { KV, KvEntry } from '@nats-io/kv';
import type { JetStreamWriter } from '@weft/shared';

/** What a key holds now, and the revision a write over it must expect. */
export interface CasRead {
  /** The value, or `undefined` when the key has none (never written, or deleted). */
  readonly entry: KvEntry | undefined;
  /** The key's last revision (that of a deletion too); 0 when it was never written. */
  readonly revision: number;
}

/**
 * A KV bucket for compare-and-set state: read through the KV client, written through
 * the worker's {@link JetStreamWriter}, which makes the many small writes of a
 * running job cheap.
 */
export class CasBucket {
  constructor(
    private readonly kv: KV,
    private readonly writer: JetStreamWriter,
    /** The bucket's name. */
    readonly name: string,
  ) {}

  /** What `key` holds now. */
  async read(key: string): Promise<CasRead> {
    const entry = await this.kv.get(key);
    if (!entry) return { entry: undefined, revision: 0 };
    return { entry: entry.operation === 'PUT' ? entry : undefined, revision: entry.revision };
  }

  /**
   * Writes `data` under `key` if its revision is still `revision` (0: never written).
   * @returns the new revision
   * @throws an error `isWrongLastSequence` recognises when the key changed meanwhile
   */
  write(key: string, data: Uint8Array | string, revision: number): Promise<number> {
    return this.writer.writeKv(this.name, key, data, revision);
  }
}

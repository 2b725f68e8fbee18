import { nuid } from '@nats-io/transport-node';
import {
  decodeWire,
  encodeWire,
  isWrongLastSequence,
  parseMessage,
  StoredValueSchema,
  ValueNotFoundError,
  type StoredValue,
  type ValueStore,
} from '@weft/shared';
import type { CasBucket } from './cas-bucket.js';
import { jobOfKey } from './keys.js';

/** A node's value together with its stored form (inline or a blob reference). */
export interface NodeResult {
  readonly value: unknown;
  readonly stored: StoredValue;
}

/**
 * Node results in the results bucket. A result is written once: the first writer
 * wins and everyone else continues with the winner's value, so a task that ran twice
 * still contributes exactly one value.
 */
export class Results {
  constructor(
    private readonly results: CasBucket,
    readonly values: ValueStore,
  ) {}

  /**
   * Stores `value` under `key` unless a value is already there.
   * @param stored the value's stored form when it already has one (avoids a second blob)
   * @returns the result that is stored now, and whether this call stored it
   */
  async put(key: string, value: unknown, stored?: StoredValue): Promise<NodeResult & { created: boolean }> {
    const mine = stored ?? (await this.values.store(value, `${key}.${nuid.next()}`, { job: jobOfKey(key) }));
    try {
      await this.results.write(key, encodeWire(mine), 0);
      return { value, stored: mine, created: true };
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      if (!stored) await this.values.discard(mine);
      const existing = await this.get(key);
      if (!existing) throw new ValueNotFoundError(`result ${key} vanished`, { cause: err });
      return { ...existing, created: false };
    }
  }

  /** The stored result under `key`, or `undefined`. */
  async get(key: string): Promise<NodeResult | undefined> {
    const { entry } = await this.results.read(key);
    if (!entry) return undefined;
    const stored = parseMessage(StoredValueSchema, decodeWire(entry.string()), 'stored result');
    return { value: await this.values.load(stored), stored };
  }

  /** The stored result under `key`. @throws ValueNotFoundError when there is none */
  async require(key: string): Promise<NodeResult> {
    const result = await this.get(key);
    if (!result) throw new ValueNotFoundError(`result ${key} not found`);
    return result;
  }
}

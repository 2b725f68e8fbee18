import { isWrongLastSequence } from '@weft/shared';
import type { CasBucket } from './cas-bucket.js';

/**
 * Records which children of an aggregation node are done, as a string of `0`/`1`
 * in the state bucket updated by compare-and-set. Marking is idempotent: a child
 * marked twice (a redelivery, two workers racing) counts once.
 */
export class ChildTracker {
  constructor(private readonly state: CasBucket) {}

  /**
   * Marks child `index` of `size` done under `key`.
   * @returns whether every child is now done (also when this mark was a repeat)
   */
  async mark(key: string, index: number, size: number): Promise<boolean> {
    for (;;) {
      const { entry, revision } = await this.state.read(key);
      const current = entry ? entry.string() : '0'.repeat(size);
      const bits = current.length === size ? current : '0'.repeat(size);
      if (bits[index] === '1') return !bits.includes('0');
      const next = bits.slice(0, index) + '1' + bits.slice(index + 1);
      try {
        await this.state.write(key, next, revision);
        return !next.includes('0');
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Lost a race with another writer: read again and retry.
      }
    }
  }
}

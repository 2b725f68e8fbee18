import { isWrongLastSequence } from '@weft/shared';
import type { CasBucket } from './cas-bucket.js';
import { KeyedBatches, whoGoesOn } from './keyed-batches.js';

/** One child to mark. */
interface Mark {
  readonly index: number;
  readonly size: number;
}

/**
 * Records which children of an aggregation node are done, as a string of `0`/`1`
 * in the state bucket updated by compare-and-set. Marking is idempotent: a child
 * marked twice (a redelivery, two workers racing) counts once. Marks of one node
 * that arrive while this worker writes its entry go out together in the next write.
 */
export class ChildTracker {
  private readonly batches: KeyedBatches<Mark, boolean>;

  constructor(private readonly state: CasBucket) {
    this.batches = new KeyedBatches((key, marks) => this.write(key, marks));
  }

  /**
   * Marks child `index` of `size` done under `key`.
   * @returns whether every child is now done and this call is the one to go on (see {@link whoGoesOn})
   */
  mark(key: string, index: number, size: number): Promise<boolean> {
    return this.batches.run(key, { index, size });
  }

  private async write(key: string, marks: readonly Mark[]): Promise<boolean[]> {
    const size = (marks[0] as Mark).size;
    for (;;) {
      const { entry, revision } = await this.state.read(key);
      const current = entry ? entry.string() : '';
      const bits = current.length === size ? current.split('') : new Array<string>(size).fill('0');
      const fresh = marks.map((m, i) => bits[m.index] !== '1' && marks.findIndex((o) => o.index === m.index) === i);
      for (const m of marks) bits[m.index] = '1';
      const complete = !bits.includes('0');
      if (!fresh.includes(true)) return whoGoesOn(complete, fresh);
      try {
        await this.state.write(key, bits.join(''), revision);
        return whoGoesOn(complete, fresh);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Lost a race with another worker: read again and retry.
      }
    }
  }
}

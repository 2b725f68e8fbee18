import { isWrongLastSequence } from '@weft/shared';
import type { CasBucket } from './cas-bucket.js';

/** A mark waiting for its write, and its caller. */
interface QueuedMark {
  readonly index: number;
  readonly resolve: (complete: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** What one write of several marks found. */
interface MarksWritten {
  /** Whether every child is done now. */
  readonly complete: boolean;
  /** The children this write marked (the others were marked before). */
  readonly fresh: ReadonlySet<number>;
}

/**
 * Records which children of an aggregation node are done, as a string of `0`/`1`
 * in the state bucket updated by compare-and-set. Marking is idempotent: a child
 * marked twice (a redelivery, two workers racing) counts once.
 *
 * Marks of one node that arrive while this worker is writing that node's entry wait
 * and go out together in the next write: a worker finishing many children of one
 * node at once would otherwise mostly lose compare-and-sets to itself.
 */
export class ChildTracker {
  private readonly queued = new Map<string, { size: number; marks: QueuedMark[] }>();
  private readonly writing = new Set<string>();

  constructor(private readonly state: CasBucket) {}

  /**
   * Marks child `index` of `size` done under `key`.
   * @returns whether every child is now done and this call is the one to go on: true
   *   for exactly one of the marks that completed the node, and for any repeat of a
   *   mark once the node is complete (a redelivery must be able to go on)
   */
  mark(key: string, index: number, size: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let queue = this.queued.get(key);
      if (!queue) {
        queue = { size, marks: [] };
        this.queued.set(key, queue);
      }
      queue.marks.push({ index, resolve, reject });
      if (!this.writing.has(key)) void this.drain(key);
    });
  }

  /** Writes the marks queued for `key`, batch after batch, until none are left. */
  private async drain(key: string): Promise<void> {
    this.writing.add(key);
    try {
      for (let batch = this.queued.get(key); batch; batch = this.queued.get(key)) {
        this.queued.delete(key);
        try {
          const written = await this.write(key, batch.marks.map((m) => m.index), batch.size);
          let told = false;
          for (const mark of batch.marks) {
            const repeat = !written.fresh.has(mark.index);
            mark.resolve(written.complete && (repeat || !told));
            if (written.complete && !repeat) told = true;
          }
        } catch (err) {
          for (const mark of batch.marks) mark.reject(err);
        }
      }
    } finally {
      this.writing.delete(key);
    }
  }

  private async write(key: string, indexes: readonly number[], size: number): Promise<MarksWritten> {
    for (;;) {
      const { entry, revision } = await this.state.read(key);
      const current = entry ? entry.string() : '';
      const bits = current.length === size ? current.split('') : new Array<string>(size).fill('0');
      const fresh = new Set(indexes.filter((i) => bits[i] !== '1'));
      if (fresh.size === 0) return { complete: !bits.includes('0'), fresh };
      for (const i of fresh) bits[i] = '1';
      try {
        await this.state.write(key, bits.join(''), revision);
        return { complete: !bits.includes('0'), fresh };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Lost a race with another worker: read again and retry.
      }
    }
  }
}

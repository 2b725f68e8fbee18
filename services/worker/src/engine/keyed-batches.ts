/** An operation waiting for its batch, and its caller. */
interface Queued<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Runs operations on a key one batch at a time: operations on a key that arrive
 * while a batch of that key is under way wait and form the next batch. A worker
 * updating one state entry from many tasks at once thus writes it once per batch
 * instead of losing compare-and-sets to itself.
 */
export class KeyedBatches<T, R> {
  private readonly queued = new Map<string, Queued<T, R>[]>();
  private readonly running = new Set<string>();

  constructor(
    /** Runs one batch; returns one result per item, in order. */
    private readonly runBatch: (key: string, items: readonly T[]) => Promise<readonly R[]>,
  ) {}

  /** Adds `item` to the next batch of `key`; resolves with its result. */
  run(key: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queued.get(key);
      if (queue) queue.push({ item, resolve, reject });
      else this.queued.set(key, [{ item, resolve, reject }]);
      if (!this.running.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let batch = this.queued.get(key); batch; batch = this.queued.get(key)) {
        this.queued.delete(key);
        try {
          const results = await this.runBatch(key, batch.map((q) => q.item));
          batch.forEach((q, i) => q.resolve(results[i] as R));
        } catch (err) {
          for (const q of batch) q.reject(err);
        }
      }
    } finally {
      this.running.delete(key);
    }
  }
}

/**
 * Who goes on after a batch of marks or inputs of one aggregation node: when the
 * node is complete, exactly one of the items that completed it, and every repeat
 * (an item marked before, i.e. a redelivery, which must be able to go on).
 */
export function whoGoesOn(complete: boolean, fresh: readonly boolean[]): boolean[] {
  let told = false;
  return fresh.map((isFresh) => {
    if (!complete) return false;
    if (!isFresh) return true;
    if (told) return false;
    told = true;
    return true;
  });
}

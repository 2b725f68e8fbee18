/** An operation waiting for its batch, and its caller. */
interface Queued<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Word that an operation on a key is coming: while any such hold is out, operations
 * on the key wait, to go out together with the coming one.
 */
export interface BatchHold {
  /** Gives the hold up; idempotent. */
  release(): void;
}

/** Options of {@link KeyedBatches}. */
export interface KeyedBatchesOptions {
  /**
   * Longest time operations wait for held ones, in milliseconds: a hold that is not
   * kept (its operation fails or waits to retry) delays the others by at most this.
   * @default 250
   */
  readonly maxHoldMs?: number;
}

/**
 * Runs operations on a key one batch at a time: operations on a key that arrive
 * while a batch of that key is under way wait and form the next batch. A worker
 * updating one state entry from many tasks at once thus writes it once per batch
 * instead of losing compare-and-sets to itself. A caller that knows another
 * operation on the key is coming (a task still running) holds the key, and the
 * operations wait for it, so that they go out together.
 */
export class KeyedBatches<T, R> {
  private readonly queued = new Map<string, Queued<T, R>[]>();
  private readonly running = new Set<string>();
  private readonly holds = new Map<string, number>();
  /** Keys whose queued operations have waited for holds as long as they may. */
  private readonly overdue = new Set<string>();
  /** Per held key with queued operations: the timer that makes them overdue. */
  private readonly holdTimers = new Map<string, NodeJS.Timeout>();
  private readonly maxHoldMs: number;

  constructor(
    /** Runs one batch; returns one result per item, in order. */
    private readonly runBatch: (key: string, items: readonly T[]) => Promise<readonly R[]>,
    options: KeyedBatchesOptions = {},
  ) {
    this.maxHoldMs = options.maxHoldMs ?? 250;
  }

  /** Holds `key` until the returned hold is released, or passed to {@link run} with the coming operation. */
  hold(key: string): BatchHold {
    this.holds.set(key, (this.holds.get(key) ?? 0) + 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        const left = (this.holds.get(key) ?? 1) - 1;
        if (left > 0) this.holds.set(key, left);
        else this.holds.delete(key);
        this.next(key);
      },
    };
  }

  /** Adds `item` to the next batch of `key`, releasing `hold` (the hold taken for it); resolves with its result. */
  run(key: string, item: T, hold?: BatchHold): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queued.get(key);
      if (queue) queue.push({ item, resolve, reject });
      else this.queued.set(key, [{ item, resolve, reject }]);
      // Released here or already: either way the operation must not wait for it.
      hold?.release();
      this.next(key);
    });
  }

  /**
   * Lets the operations queued now go without waiting for held ones (operations
   * queued later wait for holds again): for when waiting costs more than the
   * writes it saves.
   */
  flush(): void {
    for (const key of [...this.queued.keys()]) {
      if (!this.holds.has(key) || this.overdue.has(key)) continue;
      clearTimeout(this.holdTimers.get(key));
      this.holdTimers.delete(key);
      this.overdue.add(key);
      this.next(key);
    }
  }

  /** Starts the next batch of `key` if one is queued, nothing runs and nothing holds it (any longer). */
  private next(key: string): void {
    if (this.running.has(key) || !this.queued.has(key)) return;
    if (this.holds.has(key) && !this.overdue.has(key)) {
      if (!this.holdTimers.has(key)) {
        const timer = setTimeout(() => {
          this.holdTimers.delete(key);
          this.overdue.add(key);
          this.next(key);
        }, this.maxHoldMs);
        this.holdTimers.set(key, timer);
      }
      return;
    }
    void this.drain(key);
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let batch = this.takeBatch(key); batch; batch = this.takeBatch(key)) {
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
    // Operations queued while the last batch ran, but held: they go when the holds end.
    this.next(key);
  }

  /** The queued operations of `key`, unless held ones are still to come. */
  private takeBatch(key: string): Queued<T, R>[] | undefined {
    const batch = this.queued.get(key);
    if (!batch || (this.holds.has(key) && !this.overdue.has(key))) return undefined;
    this.queued.delete(key);
    this.overdue.delete(key);
    clearTimeout(this.holdTimers.get(key));
    this.holdTimers.delete(key);
    return batch;
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

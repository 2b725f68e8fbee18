import { Piscina } from 'piscina';
import type { ThreadRequest, ThreadResponse } from './thread.js';

/** A task waiting for a free thread. */
interface Waiting {
  readonly start: () => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

/**
 * The worker's thread pool for CPU-bound tasks, one thread per available CPU by default.
 *
 * Tasks wait in this pool's own first-in-first-out queue and go to piscina only when
 * a thread is free. (Piscina queues abortable tasks it cannot place at once apart from
 * new ones, and a task arriving just as a thread frees up overtakes them: under a
 * steady stream of tasks an early one can wait behind every later one.)
 */
export class CpuPool {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  private constructor(
    private readonly piscina: Piscina<ThreadRequest, ThreadResponse>,
    private readonly size: number,
  ) {}

  /** Starts `threads` threads (kept warm: a cold thread would add its start-up to the first tasks). */
  static create(threads: number): CpuPool {
    const piscina = new Piscina<ThreadRequest, ThreadResponse>({
      filename: new URL('./thread-entry.cjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: Number.POSITIVE_INFINITY,
    });
    return new CpuPool(piscina, threads);
  }

  /**
   * Runs a task on a thread once one is free, in the order tasks were given; `signal`
   * aborts it, whether still waiting or running (which terminates its thread).
   * `onStart` is called when it leaves the queue for a thread.
   */
  run(request: ThreadRequest, signal: AbortSignal, onStart?: () => void): Promise<ThreadResponse> {
    signal.throwIfAborted();
    return new Promise<ThreadResponse>((resolve, reject) => {
      const start = () => {
        this.running += 1;
        onStart?.();
        this.piscina
          .run(request, { signal })
          .then(resolve, reject)
          .finally(() => {
            this.running -= 1;
            this.next();
          });
      };
      if (this.running < this.size) {
        start();
        return;
      }
      const waiting: Waiting = {
        start,
        signal,
        onAbort: () => {
          this.waiting.splice(this.waiting.indexOf(waiting), 1);
          reject(signal.reason as Error);
        },
      };
      signal.addEventListener('abort', waiting.onAbort, { once: true });
      this.waiting.push(waiting);
    });
  }

  private next(): void {
    const waiting = this.waiting.shift();
    if (!waiting) return;
    waiting.signal.removeEventListener('abort', waiting.onAbort);
    waiting.start();
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.waiting.length;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Stops every thread; running tasks are aborted. */
  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}

import { Piscina } from 'piscina';
import type { ThreadRequest, ThreadResponse } from './thread.js';

/** The worker's thread pool for CPU-bound tasks, one thread per available CPU by default. */
export class CpuPool {
  private constructor(private readonly piscina: Piscina<ThreadRequest, ThreadResponse>) {}

  /** Starts `threads` threads (kept warm: a cold thread would add its start-up to the first tasks). */
  static create(threads: number): CpuPool {
    const piscina = new Piscina<ThreadRequest, ThreadResponse>({
      filename: new URL('./thread.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Queue in the pool rather than reject: the worker already bounds work in flight.
      maxQueue: Number.POSITIVE_INFINITY,
    });
    return new CpuPool(piscina);
  }

  /** Runs a task on a thread; `signal` aborts it (terminating the thread if it is already running). */
  run(request: ThreadRequest, signal: AbortSignal): Promise<ThreadResponse> {
    return this.piscina.run(request, { signal });
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Stops every thread; running tasks are aborted. */
  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}

import { JobNotFoundError, type Logger } from '@weft/shared';
import type { JobRecords } from './job-records.js';

/** How often accumulated progress is written to job records, in milliseconds. */
const FLUSH_INTERVAL_MS = 250;
/**
 * Flushes a job's progress waits for its record before the count is dropped: a
 * submission that waits for its job creates the record only after 50 ms, and workers
 * may count tasks before that.
 */
const MAX_FLUSHES_WITHOUT_RECORD = 20;

/**
 * Counts finished tasks per job and writes the counts to the job records a few
 * times a second, instead of one compare-and-set per finished task: progress is
 * advisory, and the final count is set exactly when the job finishes.
 */
export class ProgressReporter {
  private readonly pending = new Map<string, number>();
  /** Flushes that found no record, by job. */
  private readonly unrecorded = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly records: JobRecords,
    private readonly log: Logger,
  ) {}

  /** Adds `count` finished tasks to the job's progress (written within ~250 ms). */
  add(jobId: string, count: number): void {
    this.pending.set(jobId, (this.pending.get(jobId) ?? 0) + count);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, FLUSH_INTERVAL_MS);
  }

  /** Writes everything accumulated so far. */
  async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(([jobId, count]) =>
        this.records
          .update(jobId, (r) =>
            r.status === 'running' || r.status === 'queued'
              ? { ...r, status: 'running', progress: { ...r.progress, done: Math.min(r.progress.total, r.progress.done + count) } }
              : undefined,
          )
          .then(
            () => this.unrecorded.delete(jobId),
            (err: unknown) => {
              if (!(err instanceof JobNotFoundError)) return this.log.warn({ err, jobId }, 'could not record progress');
              if (this.closed) return undefined;
              const tries = (this.unrecorded.get(jobId) ?? 0) + 1;
              if (tries >= MAX_FLUSHES_WITHOUT_RECORD) {
                this.unrecorded.delete(jobId);
                return this.log.warn({ jobId, count }, 'dropping the progress of a job that has no record');
              }
              this.unrecorded.set(jobId, tries);
              this.add(jobId, count);
            },
          ),
      ),
    );
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }
}

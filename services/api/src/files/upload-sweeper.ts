/**
 * Periodic removal of file-store uploads that no file refers to and nothing will
 * finish (see `FileStore.sweep`): parts of an upload whose API process died before it
 * wrote the manifest, and the `output` pieces of a map-reduce that failed or was
 * cancelled. Every API replica sweeps; an upload removed twice is no harm.
 */
import type { FileStore, Infrastructure, Logger } from '@weft/shared';
import { isTerminal, readJobRecord } from '../jobs/job-records.js';

/** Longest time between two sweeps, in milliseconds (shorter when the grace period is). */
const MAX_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** Sweeps the file store every few minutes while started. */
export class UploadSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly files: FileStore,
    private readonly infra: Pick<Infrastructure, 'jobs'>,
    /** How long an upload nothing refers to is kept after its last part, in milliseconds. */
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  /** Starts sweeping (the first sweep comes after one interval). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweep());
    }, Math.min(MAX_SWEEP_INTERVAL_MS, this.graceMs));
    this.timer.unref();
  }

  /** Sweeps once. @returns the ids of the uploads removed (none when the sweep failed) */
  async sweep(): Promise<string[]> {
    try {
      const removed = await this.files.sweep({
        graceMs: this.graceMs,
        jobRunning: async (jobId) => {
          const record = await readJobRecord(this.infra.jobs, jobId);
          return record !== undefined && !isTerminal(record);
        },
      });
      if (removed.length > 0) this.log.info({ uploads: removed }, 'removed uploads no file refers to');
      return removed;
    } catch (err) {
      this.log.warn({ err }, 'could not sweep the file store');
      return [];
    }
  }

  /** Stops sweeping, after the sweep under way. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}

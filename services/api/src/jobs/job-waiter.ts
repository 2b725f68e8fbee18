/**
 * Waiting for jobs to finish, without polling: updates of a job's record are seen on
 * the core NATS subject its KV puts are published on.
 */
import type { Subscription } from '@nats-io/transport-node';
import type { Infrastructure, JobRecord, Logger } from '@weft/shared';
import { decodeJobRecord, isJobId, isTerminal, readJobRecord } from './job-records.js';

/** A subscription to one job's record updates, opened before the job may change. */
export class JobWatch {
  private terminal: JobRecord | undefined;
  private wake: (() => void) | undefined;
  private readonly subscription: Subscription;

  /** @internal use {@link JobWaiter.watch} */
  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    readonly id: string,
    log: Logger,
  ) {
    this.subscription = infra.nc.subscribe(infra.names.jobRecordSubject(id), {
      callback: (err, msg) => {
        if (err || msg.data.length === 0) return;
        try {
          const record = decodeJobRecord(msg.data);
          if (isTerminal(record)) {
            this.terminal = record;
            this.wake?.();
          }
        } catch (error) {
          log.warn({ err: error, jobId: id }, 'ignoring an undecodable job record update');
        }
      },
    });
  }

  /**
   * Resolves with the terminal record as soon as one is published, or `undefined`
   * once `timeoutMs` have passed or `signal` aborts.
   */
  async terminalWithin(timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    if (this.terminal || timeoutMs <= 0 || signal?.aborted) return this.terminal;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => this.wake?.();
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      return this.terminal;
    } finally {
      this.wake = undefined;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The record as stored now. */
  read(): Promise<JobRecord | undefined> {
    return readJobRecord(this.infra.jobs, this.id);
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/** Waits for job records to become terminal. */
export class JobWaiter {
  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    private readonly log: Logger,
  ) {}

  /**
   * Starts watching job `id`'s record. Subscribe before doing anything that may
   * finish the job, so that no update can be missed. `id` must be a job id.
   */
  watch(id: string): JobWatch {
    return new JobWatch(this.infra, id, this.log);
  }

  /**
   * Waits up to `timeoutMs` for job `id` to finish, or until `signal` aborts.
   * @returns the record as it is when the job finished or the wait ended; `undefined`
   *   when the job does not exist
   */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    // The id ends up in a subject: never subscribe with anything but a well-formed one.
    if (!isJobId(id)) return undefined;
    const watch = this.watch(id);
    try {
      const current = await watch.read();
      if (current === undefined || isTerminal(current)) return current;
      // Not finished in time: the record as it is now.
      return (await watch.terminalWithin(timeoutMs, signal)) ?? (await watch.read()) ?? current;
    } finally {
      watch.close();
    }
  }
}

/**
 * Waiting for jobs to finish, without polling: a job's end is seen as the `job` event
 * on its end subject.
 */
import type { Subscription } from '@nats-io/transport-node';
import { decodeWireBytes, JobEndEventSchema, parseMessage, type Infrastructure, type JobRecord, type Logger } from '@weft/shared';
import { isJobId, isTerminal, readJobRecord } from './job-records.js';

/**
 * A subscription to one job's end, opened before the job may change.
 *
 * It listens on the job's end subject for the `job` event, which a worker publishes
 * there only after the terminal record is stored, and which carries that record. (The
 * record's own KV subject would be as quick to listen on but cannot be trusted: NATS
 * delivers a write there before JetStream has stored it, and even when JetStream
 * rejects it.)
 */
export class JobWatch {
  private terminal: JobRecord | undefined;
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly subscription: Subscription;

  /** @internal use {@link JobWaiter.watch} */
  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    readonly id: string,
    log: Logger,
  ) {
    this.subscription = infra.nc.subscribe(infra.names.jobEndSubject(id), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const event = parseMessage(JobEndEventSchema, decodeWireBytes(msg.data), 'job end event');
          this.ended = true;
          if (event.record && isTerminal(event.record)) this.terminal = event.record;
          this.wake?.();
        } catch (error) {
          log.warn({ err: error, jobId: id }, 'ignoring an undecodable job event');
        }
      },
    });
  }

  /**
   * Resolves with the stored terminal record as soon as the job ends, or `undefined`
   * once `timeoutMs` have passed or `signal` aborts.
   */
  async terminalWithin(timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    if (!this.ended && timeoutMs > 0 && !signal?.aborted) await this.nextEnd(timeoutMs, signal);
    if (!this.ended) return undefined;
    // An end event from an older worker may lack the record: read it back.
    this.terminal ??= await this.read();
    return this.terminal && isTerminal(this.terminal) ? this.terminal : undefined;
  }

  private async nextEnd(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => this.wake?.();
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
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

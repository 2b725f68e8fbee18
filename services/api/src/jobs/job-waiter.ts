/**
 * Waiting for jobs to finish, without polling: updates of a job's record are seen on
 * the core NATS subject its KV puts are published on.
 */
import type { Infrastructure, JobRecord, Logger } from '@weft/shared';
import { decodeJobRecord, isJobId, isTerminal, readJobRecord } from './job-records.js';

/** Waits for job records to become terminal. */
export class JobWaiter {
  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    private readonly log: Logger,
  ) {}

  /**
   * Waits up to `timeoutMs` for job `id` to finish, or until `signal` aborts.
   * @returns the record as it is when the job finished or the wait ended; `undefined`
   *   when the job does not exist
   */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    const { nc, jobs, names } = this.infra;
    // The id ends up in a subject: never subscribe with anything but a well-formed one.
    if (!isJobId(id)) return undefined;
    let finish: ((record: JobRecord | undefined) => void) | undefined;
    const finished = new Promise<JobRecord | undefined>((resolve) => (finish = resolve));
    // Subscribe before reading, so that no update between the read and the
    // subscription can be missed.
    const subscription = nc.subscribe(names.jobRecordSubject(id), {
      callback: (err, msg) => {
        if (err || msg.data.length === 0) return;
        try {
          const record = decodeJobRecord(msg.data);
          if (isTerminal(record)) finish?.(record);
        } catch (error) {
          this.log.warn({ err: error, jobId: id }, 'ignoring an undecodable job record update');
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish?.(undefined);
    try {
      const current = await readJobRecord(jobs, id);
      if (current === undefined || isTerminal(current) || timeoutMs <= 0 || signal?.aborted) return current;
      timer = setTimeout(() => finish?.(undefined), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const terminal = await finished;
      // Not finished in time: the record as it is now.
      return terminal ?? (await readJobRecord(jobs, id)) ?? current;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      subscription.unsubscribe();
    }
  }
}

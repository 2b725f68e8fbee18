/**
 * Cancelling jobs: the job's record turns `cancelled` by compare-and-set (so it races
 * safely with workers finishing or failing the job), then its end event goes out,
 * which stops the workers still running its tasks.
 */
import { JobEndedError, JobNotFoundError } from '../errors.js';
import { encodeWire } from '../json-codec.js';
import { decodeJobRecord, isJobId, TERMINAL_STATUSES, type JobRecord } from '../messages.js';
import { isWrongLastSequence } from '../nats/jetstream-errors.js';
import type { Infrastructure } from '../nats/infrastructure.js';
import { discardJobValues } from '../nats/value-store.js';
import { jobEndEventId, publishJobEvent } from './job-events.js';

/** Error code in the record of a cancelled job. */
export const JOB_CANCELLED = 'JOB_CANCELLED';

/** Longest reason a cancellation may give, in characters. */
export const MAX_CANCEL_REASON_LENGTH = 500;

/** Options of {@link cancelJob}. */
export interface CancelJobOptions {
  /** Why, shown in the job's `error`. */
  readonly reason?: string;
  /** When. @default now */
  readonly now?: Date;
}

/** What {@link cancelJob} did. */
export interface CancelOutcome {
  /** The job's record, cancelled. */
  readonly record: JobRecord;
  /** Whether this call cancelled it (`false`: it was cancelled before). */
  readonly cancelled: boolean;
}

/**
 * Cancels job `jobId` unless it ended already. Its tasks that have not started are
 * not run, and workers abort those running (a CPU-bound task's thread is replaced).
 * Cancelling a cancelled job again changes nothing but publishes its end event
 * again, which JetStream stores once: a cancel cut short can simply be repeated.
 * @throws JobNotFoundError when there is no such job
 * @throws JobEndedError when the job succeeded or failed first
 */
export async function cancelJob(
  infra: Pick<Infrastructure, 'nc' | 'jobs' | 'writer' | 'names' | 'jsm' | 'blobs'>,
  jobId: string,
  options: CancelJobOptions = {},
): Promise<CancelOutcome> {
  if (!isJobId(jobId)) throw new JobNotFoundError(jobId);
  for (;;) {
    const entry = await infra.jobs.get(jobId);
    if (!entry || entry.operation !== 'PUT') throw new JobNotFoundError(jobId);
    const current = decodeJobRecord(entry.value);
    let record: JobRecord;
    let cancelled = false;
    if (current.status === 'cancelled') {
      record = current;
    } else if (TERMINAL_STATUSES.has(current.status)) {
      throw new JobEndedError(jobId, current.status);
    } else {
      const finishedAt = (options.now ?? new Date()).toISOString();
      const message = options.reason ? `cancelled: ${options.reason}` : 'cancelled';
      record = { ...current, status: 'cancelled', finishedAt, error: { code: JOB_CANCELLED, message } };
      try {
        await infra.writer.writeJobRecord(jobId, encodeWire(record), entry.revision);
      } catch (err) {
        // Changed meanwhile (a worker marked it running, or ended it): look again.
        if (isWrongLastSequence(err)) continue;
        throw err;
      }
      cancelled = true;
    }
    const at = record.finishedAt ?? new Date().toISOString();
    const error = record.error ? { error: record.error } : {};
    await publishJobEvent(infra, { type: 'job', jobId, at, status: 'cancelled', ...error, record }, jobEndEventId(jobId));
    // The job's intermediate values are of no use now. Removed in the background: the
    // answer does not wait, and values a failure leaves behind only wait out the
    // retention period.
    void discardJobValues(infra, jobId).catch(() => undefined);
    return { record, cancelled };
  }
}

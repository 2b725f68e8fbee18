import type { KV } from '@nats-io/kv';
import {
  decodeJobRecord,
  encodeWire,
  isWrongLastSequence,
  JobNotFoundError,
  setBounded,
  TERMINAL_STATUSES,
  type JobRecord,
  type JobStatus,
  type JetStreamWriter,
} from '@weft/shared';

/** How long a non-terminal status read from the bucket is trusted, in milliseconds. */
const STATUS_TTL_MS = 1000;
const STATUS_CACHE_SIZE = 10_000;
const LATEST_CACHE_SIZE = 1_000;

/**
 * Reads and updates job records. Every update is a compare-and-set loop, so
 * concurrent writers (workers, redeliveries) never lose each other's changes, and a
 * terminal record is never changed again.
 */
export class JobRecords {
  private readonly statuses = new Map<string, { status: JobStatus; at: number }>();
  /** The record and revision this worker last read or wrote, tried first by `update` (saves a read when nobody else wrote since). */
  private readonly latest = new Map<string, { record: JobRecord; revision: number }>();

  constructor(
    private readonly jobs: KV,
    /** Writes terminal records so that the requests waiting on the job see them stored at once. */
    private readonly writer?: JetStreamWriter,
  ) {}

  /** The job's record, or `undefined` when it does not exist (yet). */
  async get(jobId: string): Promise<{ record: JobRecord; revision: number } | undefined> {
    const entry = await this.jobs.get(jobId);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const record = decodeJobRecord(entry.value);
    this.remember(jobId, { record, revision: entry.revision });
    return { record, revision: entry.revision };
  }

  /** Whether the job is known to be finished; cheap for recently seen jobs. */
  async isTerminal(jobId: string): Promise<boolean> {
    const known = this.statuses.get(jobId);
    if (known && (TERMINAL_STATUSES.has(known.status) || performance.now() - known.at < STATUS_TTL_MS)) {
      return TERMINAL_STATUSES.has(known.status);
    }
    const current = await this.get(jobId);
    return current !== undefined && TERMINAL_STATUSES.has(current.record.status);
  }

  /**
   * Applies `change` to the job's record with compare-and-set, retrying on conflicts.
   * `change` returns the new record, or `undefined` to leave it as it is. When the job
   * has no record yet, `initial` is created first (the API may not have written it yet).
   * @returns the record as stored after the update, or `undefined` if `change` declined
   * @throws JobNotFoundError when the job has no record and `initial` is not given
   */
  async update(
    jobId: string,
    change: (record: JobRecord) => JobRecord | undefined,
    initial?: JobRecord,
  ): Promise<JobRecord | undefined> {
    let current = this.latest.get(jobId);
    // A job started here may have no record yet (its submitter may leave creating it
    // to us): try creating it before reading.
    let read = current !== undefined || initial === undefined;
    // After a lost compare-and-set, writes go through the KV client: unlike a plain
    // create, its create also takes the place of a deleted record.
    let direct = this.writer !== undefined;
    for (;;) {
      if (!read) read = true;
      else current ??= await this.get(jobId);
      const base = current?.record ?? initial;
      if (!base) throw new JobNotFoundError(jobId);
      const next = change(base);
      if (!next) return undefined;
      try {
        const data = encodeWire(next);
        const revision =
          direct && this.writer && TERMINAL_STATUSES.has(next.status)
            ? await this.writer.writeJobRecord(jobId, data, current?.revision ?? 0)
            : current
              ? await this.jobs.update(jobId, data, current.revision)
              : await this.jobs.create(jobId, data);
        this.remember(jobId, { record: next, revision });
        return next;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        current = undefined;
        direct = false;
      }
    }
  }

  private remember(jobId: string, entry: { record: JobRecord; revision: number }): void {
    setBounded(this.statuses, jobId, { status: entry.record.status, at: performance.now() }, STATUS_CACHE_SIZE);
    if (TERMINAL_STATUSES.has(entry.record.status)) this.latest.delete(jobId);
    else setBounded(this.latest, jobId, entry, LATEST_CACHE_SIZE);
  }
}

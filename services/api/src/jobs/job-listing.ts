/**
 * Listing recent jobs. Job ids begin with their creation time, so sorting the keys
 * of the jobs bucket in reverse gives the most recent jobs first.
 */
import type { KV } from '@nats-io/kv';
import { bucketKeys, InvalidMessageError, isJobId, setBounded, type Infrastructure, type JobRecord, type JobStatus } from '@weft/shared';
import { isTerminal, readJobRecord } from './job-records.js';

/** Records read at once while filtering by status. */
const FILTER_BATCH = 64;

/**
 * Most recent jobs a status filter looks through: a listing costs at most this many
 * reads, however many jobs the bucket holds.
 */
export const FILTER_SCAN_LIMIT = 10_000;

/** What to list. */
export interface JobListFilter {
  /** Only jobs in this status. */
  readonly status?: JobStatus | undefined;
  /** Most records to return. */
  readonly limit: number;
}

/** A record to list; a corrupt one is left out rather than failing the listing. */
async function readListedRecord(jobs: KV, key: string): Promise<JobRecord | undefined> {
  try {
    return await readJobRecord(jobs, key);
  } catch (err) {
    if (err instanceof InvalidMessageError) return undefined;
    throw err;
  }
}

/**
 * Lists recent jobs, newest first. It remembers the status of the jobs it saw ended:
 * an ended job's record never changes, so a status filter reads again only the jobs
 * that had not ended (and the matches it returns), not the thousands of ended ones
 * it looks through.
 */
export class JobListing {
  /** Statuses of ended jobs, by id, the least recently seen first (a Map iterates in insertion order). */
  private readonly ended = new Map<string, JobStatus>();

  constructor(
    private readonly infra: Pick<Infrastructure, 'jsm' | 'jobs' | 'names'>,
    /** Ended jobs remembered at most. @default twice {@link FILTER_SCAN_LIMIT} */
    private readonly maxRemembered: number = 2 * FILTER_SCAN_LIMIT,
  ) {}

  /** The most recent jobs matching `filter`, newest first; a status filter looks through the {@link FILTER_SCAN_LIMIT} most recent. */
  async list(filter: JobListFilter): Promise<JobRecord[]> {
    const { jobs, jsm, names } = this.infra;
    const keys = (await bucketKeys(jsm, names.jobsBucket)).filter(isJobId);
    keys.sort().reverse();
    if (filter.status !== undefined) keys.length = Math.min(keys.length, FILTER_SCAN_LIMIT);
    const batch = filter.status === undefined ? filter.limit : FILTER_BATCH;
    const found: JobRecord[] = [];
    for (let i = 0; i < keys.length && found.length < filter.limit; ) {
      // Read at once: up to `batch` records, no more sure matches than are still
      // needed, and none of a job known to have ended in another status.
      const candidates: string[] = [];
      for (let sure = 0; i < keys.length && candidates.length < batch && sure < filter.limit - found.length; i++) {
        const key = keys[i] as string;
        const ended = this.ended.get(key);
        if (filter.status !== undefined && ended !== undefined && ended !== filter.status) continue;
        candidates.push(key);
        if (filter.status === undefined || ended === filter.status) sure += 1;
      }
      const records = await Promise.all(candidates.map((key) => readListedRecord(jobs, key)));
      for (const record of records) {
        if (record === undefined) continue;
        if (isTerminal(record)) setBounded(this.ended, record.id, record.status, this.maxRemembered);
        if (filter.status !== undefined && record.status !== filter.status) continue;
        found.push(record);
        if (found.length === filter.limit) break;
      }
    }
    return found;
  }
}

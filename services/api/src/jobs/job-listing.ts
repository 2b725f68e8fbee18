/**
 * Listing recent jobs. Job ids begin with their creation time, so sorting the keys
 * of the jobs bucket in reverse gives the most recent jobs first.
 */
import type { KV } from '@nats-io/kv';
import { bucketKeys, InvalidMessageError, isJobId, type Infrastructure, type JobRecord, type JobStatus } from '@weft/shared';
import { readJobRecord } from './job-records.js';

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

/** The most recent jobs matching `filter`, newest first; a status filter looks through the {@link FILTER_SCAN_LIMIT} most recent. */
export async function listJobs(
  infra: Pick<Infrastructure, 'jsm' | 'jobs' | 'names'>,
  filter: JobListFilter,
): Promise<JobRecord[]> {
  const { jobs } = infra;
  const keys = (await bucketKeys(infra.jsm, infra.names.jobsBucket)).filter(isJobId);
  keys.sort().reverse();
  if (filter.status !== undefined) keys.length = Math.min(keys.length, FILTER_SCAN_LIMIT);
  const batch = filter.status === undefined ? filter.limit : FILTER_BATCH;
  const found: JobRecord[] = [];
  for (let i = 0; i < keys.length && found.length < filter.limit; i += batch) {
    const records = await Promise.all(keys.slice(i, i + batch).map((key) => readListedRecord(jobs, key)));
    for (const record of records) {
      if (record === undefined || (filter.status !== undefined && record.status !== filter.status)) continue;
      found.push(record);
      if (found.length === filter.limit) break;
    }
  }
  return found;
}

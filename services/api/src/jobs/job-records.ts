/**
 * Reading job records from the jobs bucket.
 */
import type { KV } from '@nats-io/kv';
import { decodeJobRecord, isJobId, JobNotFoundError, TERMINAL_STATUSES, type JobRecord } from '@weft/shared';

/** Whether the job is finished for good. */
export function isTerminal(record: JobRecord): boolean {
  return TERMINAL_STATUSES.has(record.status);
}

/** The record of job `id`, or `undefined` when there is none (or `id` is not a job id). */
export async function readJobRecord(jobs: KV, id: string): Promise<JobRecord | undefined> {
  if (!isJobId(id)) return undefined;
  const entry = await jobs.get(id);
  if (!entry || entry.operation !== 'PUT') return undefined;
  return decodeJobRecord(entry.value);
}

/** The record of job `id`. @throws JobNotFoundError when there is none */
export async function requireJobRecord(jobs: KV, id: string): Promise<JobRecord> {
  const record = await readJobRecord(jobs, id);
  if (record === undefined) throw new JobNotFoundError(id);
  return record;
}

/**
 * Reading job records from the jobs bucket.
 */
import type { KV } from '@nats-io/kv';
import { decodeWireBytes, JobRecordSchema, parseMessage, TERMINAL_STATUSES, type JobRecord } from '@weft/shared';

/** Whether `id` has the shape of a job id (and so is a valid key of the jobs bucket). */
export function isJobId(id: string): boolean {
  return JobRecordSchema.shape.id.safeParse(id).success;
}

/** Whether the job is finished for good. */
export function isTerminal(record: JobRecord): boolean {
  return TERMINAL_STATUSES.has(record.status);
}

/** Decodes a record as stored in the bucket (or published on its KV subject). @throws InvalidMessageError */
export function decodeJobRecord(bytes: Uint8Array): JobRecord {
  return parseMessage(JobRecordSchema, decodeWireBytes(bytes), 'job record');
}

/** The record of job `id`, or `undefined` when there is none (or `id` is not a job id). */
export async function readJobRecord(jobs: KV, id: string): Promise<JobRecord | undefined> {
  if (!isJobId(id)) return undefined;
  const entry = await jobs.get(id);
  if (!entry || entry.operation !== 'PUT') return undefined;
  return decodeJobRecord(entry.value);
}

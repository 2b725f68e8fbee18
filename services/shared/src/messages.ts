import { z } from 'zod';
import { InvalidMessageError } from './errors.js';
import { decodeWireBytes } from './json-codec.js';

/**
 * Contracts of everything Weft writes to NATS: work items, job records, events and
 * heartbeats. Every reader validates with these schemas at the boundary.
 */

/** A value stored inline (`v`) or, when large, as an object in the blob store (`ref`). */
export const StoredValueSchema = z.union([
  /** Inline. */
  z.strictObject({ v: z.unknown() }),
  /**
   * One message of the values stream, by sequence number; of the job values stream
   * with `job` (a job's intermediate value, removed when the job ends).
   */
  z.strictObject({ seq: z.number().int().min(1), bytes: z.number().int().nonnegative(), job: z.literal(true).optional() }),
  /** An object of the blobs store (values larger than a message). */
  z.strictObject({ ref: z.string().min(1), bytes: z.number().int().nonnegative() }),
]);
export type StoredValue = z.infer<typeof StoredValueSchema>;

const jobId = z.string().regex(/^[0-9a-z]{26}$/, 'job ids are 26 lower-case base32 characters');

/** Whether `id` has the shape of a job id (and so is a valid KV key and subject token). */
export function isJobId(id: string): boolean {
  return jobId.safeParse(id).success;
}
const nodeId = z.string().regex(/^r(\.[0-9a-z-]+)*$/);

/** Job lifecycle. `queued` → `running` → one of the terminal states. */
export const JobStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

/** Terminal statuses: a job in one of them never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** Why a job failed. */
export const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  /** JSON Pointer of the failing node in the submitted spec. */
  node: z.string().optional(),
  task: z.string().optional(),
  label: z.string().optional(),
  attempts: z.number().int().optional(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

/** One finished task, as reported in events. */
export const TaskCompletionSchema = z.object({
  /** JSON Pointer of the task in the spec; map chunks and reduce steps add `#chunk/N` or `#reduce/L/N`. */
  node: z.string(),
  task: z.string(),
  label: z.string().optional(),
  attempts: z.number().int().positive(),
  /** From the start of the first attempt to the end of the last, in milliseconds; time spent waiting for a thread is not counted. */
  durationMs: z.number().nonnegative(),
  /** The task's value when it is small; omitted otherwise. */
  value: z.unknown().optional(),
});
export type TaskCompletion = z.infer<typeof TaskCompletionSchema>;

/** The durable record of a job, stored in the jobs bucket under its id. */
export const JobRecordSchema = z.object({
  id: jobId,
  status: JobStatusSchema,
  /** Kind of the root node. */
  kind: z.enum(['task', 'chain', 'group', 'chord', 'mapReduce']),
  label: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  progress: z.object({
    /** Tasks finished (leaf tasks, map chunks and reduce steps). */
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  result: StoredValueSchema.optional(),
  error: JobErrorSchema.optional(),
  /**
   * Completions of the tasks that finished the job when they travel in its end event
   * rather than in a `tasks` event (a job of one task): kept, so that the end can be
   * told again in full from the record. Not part of the API's views.
   */
  tasks: z.array(TaskCompletionSchema).optional(),
  /**
   * Every queue the job's work goes to (its plan's `queues`), so that a view of the job
   * can tell which of them no live worker pulls from. Not part of the API's views.
   */
  queues: z.array(z.string()).optional(),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** Decodes a job record as stored in the jobs bucket (or published on its KV subject). @throws InvalidMessageError */
export function decodeJobRecord(bytes: Uint8Array): JobRecord {
  return parseMessage(JobRecordSchema, decodeWireBytes(bytes), 'job record');
}

/** An entry of the job index stream: a job, in the order jobs were submitted. */
export const JobIndexEntrySchema = z.object({ id: jobId });
export type JobIndexEntry = z.infer<typeof JobIndexEntrySchema>;

const base = { v: z.literal(1), jobId };

/** Work items, published on the tasks stream under the queue they run on. */
export const WorkItemSchema = z.discriminatedUnion('kind', [
  /**
   * Expand a new job: dispatch whatever can run first. Carries the job's initial
   * record and its spec (inline when small, else a blob reference).
   */
  z.strictObject({ ...base, kind: z.literal('start'), record: JobRecordSchema, spec: StoredValueSchema }),
  /** Run one task node, with the incoming value when it takes one. */
  z.strictObject({ ...base, kind: z.literal('task'), node: nodeId, input: StoredValueSchema.optional() }),
  /** Run the light task members of one level-1 aggregation node of a group as one message. */
  z.strictObject({
    ...base,
    kind: z.literal('batch'),
    node: nodeId,
    index: z.number().int().nonnegative(),
    input: StoredValueSchema.optional(),
  }),
  /** Run the map task of a map-reduce on chunk `index`. */
  z.strictObject({ ...base, kind: z.literal('chunk'), node: nodeId, index: z.number().int().nonnegative() }),
  /** Run the reduce task of reduce node (`level`, `index`) of a map-reduce. */
  z.strictObject({
    ...base,
    kind: z.literal('reduce'),
    node: nodeId,
    level: z.number().int().positive(),
    index: z.number().int().nonnegative(),
  }),
]);
export type WorkItem = z.infer<typeof WorkItemSchema>;

/** The last event of a job: it finished, for good. */
export const JobEndEventSchema = z.object({
  type: z.literal('job'),
  jobId,
  at: z.string(),
  status: JobStatusSchema,
  error: JobErrorSchema.optional(),
  /**
   * The terminal record, as stored before this event was published: whoever
   * receives the event can rely on the record without reading it back.
   */
  record: JobRecordSchema.optional(),
  /**
   * Completions of the tasks that finished the job, when they were not published as
   * a `tasks` event of their own (a job of one task sends only this event).
   */
  tasks: z.array(TaskCompletionSchema).optional(),
});

/** Events of one job, published on its event subject in order of completion. */
export const JobEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('tasks'), jobId, at: z.string(), tasks: z.array(TaskCompletionSchema) }),
  JobEndEventSchema,
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

/** What a live worker reports about itself every few seconds. */
export const WorkerHeartbeatSchema = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  pid: z.number().int(),
  version: z.string(),
  queues: z.array(z.string()),
  threads: z.number().int(),
  concurrency: z.number().int(),
  /** Interval between heartbeats, in milliseconds: an entry older than a few of them is stale. */
  heartbeatMs: z.number().int().positive(),
  inFlight: z.number().int(),
  processed: z.number().int(),
  failed: z.number().int(),
  startedAt: z.string(),
  seenAt: z.string(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeatSchema>;

/**
 * Validates a decoded message against `schema`.
 * @throws InvalidMessageError naming `what` and the first problems
 */
export function parseMessage<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const detail = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '/'}: ${i.message}`)
    .join('; ');
  throw new InvalidMessageError(`invalid ${what}: ${detail}`, { cause: result.error });
}

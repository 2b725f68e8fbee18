import { encodeWire } from '../json-codec.js';
import { isWrongLastSequence } from '../nats/jetstream-errors.js';
import type { Infrastructure } from '../nats/infrastructure.js';
import type { ValueStore } from '../nats/value-store.js';
import { newJobId } from '../ids.js';
import { DEFAULT_QUEUE } from '../names.js';
import type { JobIndexEntry, JobRecord, StoredValue, WorkItem } from '../messages.js';
import { compilePlan, type PlanOptions } from '../plan/compile-plan.js';
import type { Plan } from '../plan/plan.js';
import type { JobNode } from '../spec/job-spec.js';
import { NODE_KINDS } from '../spec/job-spec.js';
import { parseJobSpec, type SpecLimits } from '../spec/parse-job-spec.js';
import { resolveFileInputs, type FileInputContext } from '../file-inputs/resolve-file-inputs.js';
import type { TaskCatalogue } from '../tasks/index.js';

/** A validated job, ready to be published. */
export interface PreparedJob {
  readonly id: string;
  readonly spec: JobNode;
  readonly plan: Plan;
  /** The record the job starts with (status `queued`). */
  readonly record: JobRecord;
}

/** Options of {@link prepareJob}. */
export interface PrepareJobOptions {
  /** Where file inputs are resolved; without it, a spec with file inputs is refused. */
  readonly files?: FileInputContext;
  /** Submission time. @default now */
  readonly now?: Date;
}

/**
 * Validates an untrusted spec (schema, limits, task names and arguments), resolves
 * its file inputs to pinned files and splits, and prepares its initial record.
 * @throws InvalidSpecError, SpecLimitError, UnknownTaskError, InvalidTaskArgsError, FileInputError
 */
export async function prepareJob(
  input: unknown,
  catalogue: TaskCatalogue,
  limits: SpecLimits & PlanOptions,
  options: PrepareJobOptions = {},
): Promise<PreparedJob> {
  const parsed = parseJobSpec(input, limits);
  const spec =
    options.files && hasFileInputs(parsed) ? await resolveFileInputs(parsed, { maxSplits: limits.maxChunks, ...options.files }) : parsed;
  const plan = compilePlan(spec, catalogue, limits);
  const now = options.now ?? new Date();
  const id = newJobId(now.getTime());
  // The kind as submitted: the root's own, though a `save` option makes its plan a chain.
  const kind = NODE_KINDS.find((k) => Object.hasOwn(input as object, k)) ?? 'task';
  const record: JobRecord = {
    id,
    status: 'queued',
    kind,
    ...(spec.label === undefined ? {} : { label: spec.label }),
    createdAt: now.toISOString(),
    progress: { done: 0, total: plan.taskCount },
    queues: [...plan.queues],
  };
  return { id, spec, plan, record };
}

/** Options of {@link publishJob}. */
export interface PublishJobOptions {
  /**
   * Create the job's `queued` record now. A caller about to wait for the job may
   * leave it to the worker (which creates it when it starts or finishes the job) and
   * call {@link createJobRecord} only if the job takes a while: a quick job then
   * costs one write less. @default true
   */
  readonly createRecord?: boolean;
  /**
   * Told when the job's entry in the job index could not be written although its
   * start item was stored: the job runs, but listings leave it out.
   */
  readonly onIndexFailure?: (err: unknown) => void;
}

/**
 * Makes a prepared job durable and starts it, in an order that survives a crash at
 * any point. The `start` work item carries the spec (a large spec is written to the
 * object store first and referenced); from the moment it is published the job runs
 * even if the caller dies, because the worker that starts it creates the record if
 * it is missing and stores the spec for the other workers. The job's entry in the
 * job index, which listings read, is written with the start item. The `queued`
 * record is created once the start item is stored, unless a worker got there first.
 */
export async function publishJob(
  infra: Infrastructure,
  values: ValueStore,
  job: PreparedJob,
  options: PublishJobOptions = {},
): Promise<void> {
  return publishStart(infra, job, await storeJobSpec(values, job), options);
}

/** Stores the job's spec for its `start` item: inline when small, in the object store otherwise. */
export function storeJobSpec(values: ValueStore, job: PreparedJob): Promise<StoredValue> {
  return values.store(job.spec, `${job.id}.spec`);
}

/**
 * {@link publishJob} with the spec stored already. The start item is handed to the
 * connection before this returns, so subscriptions made just before go out with it
 * in one write.
 */
export async function publishStart(
  infra: Infrastructure,
  job: PreparedJob,
  spec: StoredValue,
  options: PublishJobOptions = {},
): Promise<void> {
  const start: WorkItem = { v: 1, kind: 'start', jobId: job.id, record: job.record, spec };
  const entry: JobIndexEntry = { id: job.id };
  // Both in one write. The start item decides: once it is stored the job runs, listed
  // or not (so the caller is not told to submit it again), and an entry whose job
  // never started is skipped by listings.
  const [indexed, started] = await Promise.allSettled([
    infra.writer.publish(infra.names.jobIndexSubject, encodeWire(entry), { msgId: `${job.id}:index` }),
    infra.writer.publish(infra.names.taskSubject(job.spec.queue ?? DEFAULT_QUEUE), encodeWire(start), {
      msgId: `${job.id}:start`,
    }),
  ]);
  if (started.status === 'rejected') throw started.reason as Error;
  if (indexed.status === 'rejected') options.onIndexFailure?.(indexed.reason);
  // Only once the start item is stored: a `queued` record without one would never
  // change. (Should this process die first, the worker starting the job creates it.)
  if (options.createRecord !== false) await createJobRecord(infra, job);
}

/**
 * Creates the job's `queued` record unless it exists already (a worker may have been first).
 * @returns the record's revision, or `undefined` when it existed
 */
export async function createJobRecord(infra: Infrastructure, job: PreparedJob): Promise<number | undefined> {
  try {
    return await infra.jobs.create(job.id, encodeWire(job.record));
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
    return undefined;
  }
}

/** Whether any map-reduce of `spec` reads files. */
function hasFileInputs(spec: JobNode): boolean {
  if ('chain' in spec) return spec.chain.some(hasFileInputs);
  if ('group' in spec) return spec.group.some(hasFileInputs);
  if ('chord' in spec) return spec.chord.header.some(hasFileInputs) || hasFileInputs(spec.chord.body);
  if ('mapReduce' in spec) return !('items' in spec.mapReduce.input || 'range' in spec.mapReduce.input);
  return false;
}

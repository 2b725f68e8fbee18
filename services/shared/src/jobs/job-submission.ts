import { encodeWire } from '../json-codec.js';
import { isWrongLastSequence } from '../nats/jetstream-errors.js';
import type { Infrastructure } from '../nats/infrastructure.js';
import type { ValueStore } from '../nats/value-store.js';
import { newJobId } from '../ids.js';
import { DEFAULT_QUEUE } from '../names.js';
import type { JobRecord, WorkItem } from '../messages.js';
import { compilePlan, type PlanOptions } from '../plan/compile-plan.js';
import type { Plan } from '../plan/plan.js';
import type { JobNode } from '../spec/job-spec.js';
import { NODE_KINDS } from '../spec/job-spec.js';
import { parseJobSpec, type SpecLimits } from '../spec/parse-job-spec.js';
import type { TaskCatalogue } from '../tasks/index.js';

/** A validated job, ready to be published. */
export interface PreparedJob {
  readonly id: string;
  readonly spec: JobNode;
  readonly plan: Plan;
  /** The record the job starts with (status `queued`). */
  readonly record: JobRecord;
}

/**
 * Validates an untrusted spec (schema, limits, task names and arguments) and
 * prepares its initial record.
 * @throws InvalidSpecError, SpecLimitError, UnknownTaskError, InvalidTaskArgsError
 */
export function prepareJob(
  input: unknown,
  catalogue: TaskCatalogue,
  limits: SpecLimits & PlanOptions,
  now: Date = new Date(),
): PreparedJob {
  const spec = parseJobSpec(input, limits);
  const plan = compilePlan(spec, catalogue, limits);
  const id = newJobId(now.getTime());
  const kind = NODE_KINDS.find((k) => Object.hasOwn(spec, k)) ?? 'task';
  const record: JobRecord = {
    id,
    status: 'queued',
    kind,
    ...(spec.label === undefined ? {} : { label: spec.label }),
    createdAt: now.toISOString(),
    progress: { done: 0, total: plan.taskCount },
  };
  return { id, spec, plan, record };
}

/**
 * Makes a prepared job durable and starts it, in an order that survives a crash at
 * any point: the spec is stored first, then the `start` work item is published
 * (from then on the job runs even if the caller dies: the worker creates the record
 * if it is missing), and last the `queued` record is created unless a worker got
 * there first.
 */
export async function publishJob(infra: Infrastructure, values: ValueStore, job: PreparedJob): Promise<void> {
  const stored = await values.store(job.spec, `${job.id}.spec`);
  await infra.specs.put(job.id, encodeWire(stored));
  const start: WorkItem = { v: 1, kind: 'start', jobId: job.id, record: job.record };
  await infra.js.publish(infra.names.taskSubject(job.spec.queue ?? DEFAULT_QUEUE), encodeWire(start), {
    msgID: `${job.id}:start`,
  });
  try {
    await infra.jobs.create(job.id, encodeWire(job.record));
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
  }
}

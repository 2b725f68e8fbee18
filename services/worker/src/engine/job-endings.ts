/**
 * How jobs end: the terminal record, written once by compare-and-set (a terminal
 * record never changes), and the end event published after it.
 */
import { nuid } from '@nats-io/transport-node';
import { jobEndEventId, type JobError, type JobRecord, type Logger, type Plan, type PlanTask, type StoredValue, type ValueStore } from '@weft/shared';
import type { TaskOutcome } from '../execution/task-runner.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobRecords } from './job-records.js';
import type { JobHandle } from './progression.js';

/**
 * Longest error message a job's record keeps (then saying how much was cut), in UTF-16
 * code units: the record, and the end event carrying it, must fit in a NATS message,
 * whatever a task threw.
 */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

/** What ending jobs needs. */
export interface JobEndingsDeps {
  readonly records: JobRecords;
  readonly dispatcher: Dispatcher;
  readonly values: ValueStore;
  readonly log: Logger;
}

/** Ends jobs, successfully or not; safe when several workers try at once. */
export class JobEndings {
  constructor(private readonly deps: JobEndingsDeps) {}

  /**
   * Stores `value` as the job's result and marks the job succeeded, unless it ended
   * already; the end event is tracked on `job` (see {@link track}).
   */
  async succeed(job: JobHandle, plan: Plan, value: unknown, initial?: JobRecord): Promise<void> {
    const jobId = job.id;
    const stored: StoredValue = await this.deps.values.store(value, `${jobId}.result.${nuid.next()}`);
    const finishedAt = new Date().toISOString();
    const progress = { done: plan.taskCount, total: plan.taskCount };
    // Completions that travel in the end event are kept in the record too: whoever
    // tells the end again from the record (a repeat, an event stream) tells them.
    const tasks = job.endTasks ? { tasks: job.endTasks } : {};
    const updated = await this.end(jobId, { status: 'succeeded', result: stored, progress, ...tasks }, finishedAt, initial);
    // A job of one task stored no value on its way: its task's went straight into the result.
    const stepsStored = plan.root.kind !== 'task';
    if (!updated) {
      // Ended already, maybe by a worker that died before removing the job's values.
      if (stepsStored) track(job, this.discardValues(jobId));
      return this.deps.values.discard(stored);
    }
    const end = { type: 'job', jobId, at: finishedAt, status: 'succeeded', record: updated, ...tasks } as const;
    track(job, this.deps.dispatcher.eventWithRetries(end, jobEndEventId(jobId), job.signal));
    if (stepsStored) track(job, this.discardValues(jobId));
    this.deps.log.info({ jobId, tasks: plan.taskCount }, 'job succeeded');
  }

  /** Fails the job because a task failed after its attempts, with an error naming the task. */
  failTask(job: JobHandle, node: Pick<PlanTask, 'task' | 'pointer' | 'label'>, outcome: TaskOutcome & { ok: false }): Promise<void> {
    const jobId = job.id;
    this.deps.log.warn({ jobId, node: node.pointer, task: node.task, code: outcome.code, attempts: outcome.attempts, err: outcome.message }, 'task failed');
    return this.fail(jobId, {
      code: outcome.code,
      message: `task "${node.task}" at ${node.pointer || '/'} failed after ${outcome.attempts} attempt(s): ${outcome.message}`,
      node: node.pointer,
      task: node.task,
      attempts: outcome.attempts,
      ...(node.label === undefined ? {} : { label: node.label }),
    }, job.initial);
  }

  /** Marks the job failed with `error`, unless it ended already, and publishes its end. */
  async fail(jobId: string, failure: JobError, initial?: JobRecord): Promise<void> {
    const error = { ...failure, message: bounded(failure.message) };
    const finishedAt = new Date().toISOString();
    const updated = await this.end(jobId, { status: 'failed', error }, finishedAt, initial);
    if (updated) {
      await Promise.all([
        this.deps.dispatcher.event({ type: 'job', jobId, at: finishedAt, status: 'failed', error, record: updated }, jobEndEventId(jobId)),
        this.discardValues(jobId),
      ]);
    }
  }

  /**
   * Removes the intermediate values of a job that ended (see `discardJobValues`).
   * Never rejects: values left behind only wait out the retention period.
   */
  private discardValues(jobId: string): Promise<void> {
    return this.deps.values.discardJob(jobId).catch((err: unknown) => this.deps.log.warn({ err, jobId }, 'could not remove the intermediate values of an ended job'));
  }

  /** Writes `ending` into the job's record unless the job ended already. @returns the record written, if it was */
  private end(jobId: string, ending: Partial<JobRecord>, finishedAt: string, initial?: JobRecord): Promise<JobRecord | undefined> {
    return this.deps.records.update(
      jobId,
      (r) =>
        r.status === 'queued' || r.status === 'running'
          ? { ...r, ...ending, startedAt: r.startedAt ?? initial?.startedAt ?? finishedAt, finishedAt }
          : undefined,
      initial,
    );
  }

  /**
   * Publishes a finished job's end event again, from its record (with the completions
   * it carries): a repeated item of a finished job may be the one whose worker died
   * between storing the terminal record and publishing the event. (Within the
   * duplicate window, an event already stored is not stored twice.)
   */
  async publishAgain(jobId: string): Promise<void> {
    const current = await this.deps.records.get(jobId);
    if (!current) return;
    const { record } = current;
    const at = record.finishedAt ?? new Date().toISOString();
    const told = { ...(record.error ? { error: record.error } : {}), ...(record.tasks ? { tasks: record.tasks } : {}) };
    await Promise.all([
      this.deps.dispatcher.event({ type: 'job', jobId, at, status: record.status, ...told, record }, jobEndEventId(jobId)),
      // Its worker may also have died before removing the job's values.
      this.discardValues(jobId),
    ]);
  }
}

/** `message`, cut to {@link MAX_ERROR_MESSAGE_CHARS} (saying how much was cut) when longer. */
function bounded(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_CHARS) return message;
  let end = MAX_ERROR_MESSAGE_CHARS;
  // Not between the two halves of a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(message.charAt(end - 1))) end -= 1;
  return `${message.slice(0, end)}… (${message.length - end} more characters)`;
}

/** Adds a publication the work item's acknowledgement waits for (and marks its failure as handled until then). */
export function track(job: JobHandle, publication: Promise<unknown>): void {
  publication.catch(() => undefined);
  job.pending.push(publication);
}

import {
  chunkOf,
  type FileAccess,
  type FileStore,
  type UploadedParts,
  type JobRecord,
  type Logger,
  type NodeRef,
  type Plan,
  type PlanTask,
  type TaskCompletion,
  type ValueStore,
  type WorkItem,
} from '@weft/shared';
import type { TaskOutcome, TaskRun, TaskRunner, ThreadClaim } from '../execution/task-runner.js';
import type { ChildTracker } from './child-tracker.js';
import type { JobStops } from './job-stops.js';
import { workItemId, type Dispatch, type Dispatcher } from './dispatcher.js';
import type { JobRecords } from './job-records.js';
import type { PlanCache } from './plan-cache.js';
import { batchMembers, groupNode, mapReduceNode, taskNode } from './plan-nodes.js';
import type { ReduceInputs } from './reduce-inputs.js';
import type { ProgressReporter } from './progress-reporter.js';
import { FileSteps } from './file-steps.js';
import { JobEndings, track } from './job-endings.js';
import { Progression, type JobHandle } from './progression.js';
import { resumeIfDone } from './resumption.js';
import { completion } from './task-completions.js';
import type { Results } from './results.js';

/** How long a job started in place may run before its record is marked `running`, in milliseconds. */
const RUNNING_MARK_DELAY_MS = 20;

/**
 * A start item that waited in its queue longer than this, in milliseconds, checks that
 * its job was not cancelled meanwhile before it starts it. (One picked up at once does
 * not: the read would cost a quick job a round trip, for a job not worth cancelling.)
 */
const START_CHECK_AFTER_MS = 250;

/** What the engine needs from the worker. */
export interface JobEngineDeps {
  readonly plans: PlanCache;
  readonly records: JobRecords;
  readonly results: Results;
  readonly children: ChildTracker;
  readonly reduceInputs: ReduceInputs;
  readonly dispatcher: Dispatcher;
  readonly values: ValueStore;
  readonly runner: TaskRunner;
  readonly progress: ProgressReporter;
  readonly log: Logger;
  /** Queues this worker pulls from: work for them may be run in place instead of published. */
  readonly queues: readonly string[];
  /** Reads the splits of file inputs. */
  readonly files: FileAccess;
  /** Where map-reduce `output` files are written. */
  readonly fileStore: FileStore;
  /** Stop signals of the jobs being processed here. */
  readonly stops: JobStops;
}

/** How the current delivery of a work item looks. */
export interface Delivery {
  /**
   * Whether the item may have been processed before (see `WorkMessage.repeat`): its
   * stored result is looked for first. Read again when the item sends work on, which
   * then says it may be a repeat too: the item may have been delivered to another
   * worker meanwhile (see `WorkMessage.mayHaveLapsed`).
   */
  readonly repeat: boolean;
  /** How long the item has been in its queue, in milliseconds. @default 0 */
  readonly ageMs?: number;
  /** The item's claim on the worker's threads, handed to the task it runs. */
  readonly claim?: ThreadClaim;
}

type ExecutedUnit = { readonly completions: TaskCompletion[]; readonly count: number };

/** What the tasks of one work item run with. */
interface RunContext {
  /** The item's claim on the worker's threads. */
  readonly claim: ThreadClaim | undefined;
  /** Aborted when the item's job stops, or the worker shuts down. */
  readonly signal: AbortSignal;
}

/**
 * Processes work items: expands new jobs, runs tasks, batches, map chunks and
 * reduce steps, records results, publishes events and advances each job through
 * {@link Progression}. Safe to run on any number of workers at once.
 */
export class JobEngine {
  private readonly progression: Progression;
  private readonly fileSteps: FileSteps;
  private readonly endings: JobEndings;

  constructor(private readonly deps: JobEngineDeps) {
    this.progression = new Progression(deps.results, deps.children, deps.reduceInputs, deps.log);
    this.fileSteps = new FileSteps(deps.files, deps.fileStore);
    this.endings = new JobEndings(deps);
  }

  /**
   * Processes one work item; resolves once everything it causes is durably recorded.
   * @throws JobStoppedError when the item's job ended while one of its tasks ran
   *   (cancelled, or failed by another item): nothing is left to do for the item
   */
  async handle(item: WorkItem, delivery: Delivery): Promise<void> {
    const stop = this.deps.stops.hold(item.jobId);
    try {
      const context: RunContext = { claim: delivery.claim, signal: stop.signal };
      if (item.kind === 'start') return await this.startJob(item, delivery, context);
      // Work of a job stopped here a moment ago is dropped without reading its record.
      if (this.deps.stops.isStopped(item.jobId) || (await this.deps.records.isTerminal(item.jobId))) {
        return delivery.repeat ? await this.endings.publishAgain(item.jobId) : undefined;
      }
      const plan = await this.deps.plans.get(item.jobId);
      const job = this.handleFor(item.jobId, plan, context.signal);
      const out: Dispatch[] = [];
      if (!(delivery.repeat && (await resumeIfDone(this.deps.results, this.progression, job, plan, item, out)))) {
        await this.execute(job, plan, item, out, context);
      }
      await this.deps.dispatcher.dispatch(out, () => delivery.repeat);
      await Promise.all(job.pending);
    } finally {
      stop.release();
    }
  }

  /**
   * Writes now the inputs of finished map chunks that wait to go out with a chunk
   * still running here: their work items hold slots the worker needs.
   */
  writeHeldInputs(): void {
    this.deps.reduceInputs.flush();
  }

  /** The job ended (a stop came for it): what this worker holds for it goes. */
  jobEnded(jobId: string): void {
    this.deps.plans.forget(jobId);
  }

  /** How the job ended, per its record, if it ended before its work did (cancelled or failed). */
  async earlyEnd(jobId: string): Promise<'cancelled' | 'failed' | undefined> {
    const status = (await this.deps.records.get(jobId))?.record.status;
    return status === 'cancelled' || status === 'failed' ? status : undefined;
  }

  /**
   * Fails the job a work item belongs to, e.g. because the item kept killing its workers.
   * The error names `error.node` when given, else the item's node.
   */
  async failItem(item: WorkItem, error: { code: string; message: string; node?: NodeRef }): Promise<void> {
    const initial = item.kind === 'start' ? item.record : undefined;
    // Named one by one: an Error's message is not an enumerable property, and a spread drops it.
    const { code, message } = error;
    let node = error.node;
    if (node === undefined && item.kind !== 'start' && 'node' in item) {
      const plan = await this.deps.plans.get(item.jobId).catch(() => undefined);
      const pointer = plan?.node(item.node)?.pointer;
      if (pointer !== undefined) node = { pointer };
    }
    const where = { ...(node ? { node: node.pointer } : {}), ...(node?.task ? { task: node.task } : {}) };
    await this.endings.fail(item.jobId, { code, message, ...where }, initial);
  }

  private async startJob(item: Extract<WorkItem, { kind: 'start' }>, delivery: Delivery, context: RunContext): Promise<void> {
    const { jobId } = item;
    // Stopped here already, or (read only for an item that waited; see
    // START_CHECK_AFTER_MS) cancelled while it waited: nothing to start.
    if (this.deps.stops.isStopped(jobId)) return;
    if ((delivery.repeat || (delivery.ageMs ?? 0) > START_CHECK_AFTER_MS) && (await this.deps.records.isTerminal(jobId))) {
      return delivery.repeat ? this.endings.publishAgain(jobId) : undefined;
    }
    const plan = await this.deps.plans.get(jobId, item.spec);
    const started = { ...item.record, startedAt: new Date().toISOString() };
    const job = this.handleFor(jobId, plan, context.signal, started);
    const out: Dispatch[] = [];
    await this.progression.start(job, plan.root, undefined, out);
    const [only] = out;
    if (out.length === 1 && only && only.item.kind !== 'start' && this.deps.queues.includes(only.queue)) {
      // A job that starts with one piece of work (a single task, a chain) runs it right
      // here: it saves a round trip through the queue, and the start item is not acked
      // until it is done, so a crash still redelivers it. The record only turns
      // `running` if the work takes a moment; a quick job goes straight to its end.
      let marking: Promise<unknown> | undefined;
      const timer = setTimeout(() => {
        marking = this.markRunning(started);
        marking.catch(() => undefined); // awaited below; handled from now on
      }, RUNNING_MARK_DELAY_MS);
      const next: Dispatch[] = [];
      try {
        if (!(delivery.repeat && (await resumeIfDone(this.deps.results, this.progression, job, plan, only.item, next)))) {
          await this.execute(job, plan, only.item, next, context);
        }
      } finally {
        clearTimeout(timer);
        await marking;
      }
      await this.dispatchFollowUps(item, started, next, marking !== undefined, delivery);
    } else {
      await this.dispatchFollowUps(item, started, out, false, delivery);
      this.deps.log.debug({ jobId, dispatched: out.length }, 'job started');
    }
    await Promise.all(job.pending);
  }

  /**
   * Publishes work items of a starting job for other workers, after making sure its
   * record exists (marked `running`) and its spec is readable to them.
   */
  private async dispatchFollowUps(
    start: Extract<WorkItem, { kind: 'start' }>,
    started: JobRecord & { startedAt: string },
    out: readonly Dispatch[],
    marked: boolean,
    delivery: Delivery,
  ): Promise<void> {
    if (out.length === 0) return;
    await Promise.all([
      this.deps.plans.share(start.jobId, start.spec),
      marked ? undefined : this.markRunning(started),
    ]);
    await this.deps.dispatcher.dispatch(out, () => delivery.repeat);
  }

  /** Marks the job `running` since it started here (creating its record from `started` if it has none yet). */
  private markRunning(started: JobRecord & { startedAt: string }): Promise<unknown> {
    const { startedAt } = started;
    return this.deps.records.update(
      started.id,
      (r) => (r.status === 'queued' ? { ...r, status: 'running', startedAt } : undefined),
      started,
    );
  }

  private async execute(
    job: JobHandle,
    plan: Plan,
    item: Exclude<WorkItem, { kind: 'start' }>,
    out: Dispatch[],
    context: RunContext,
  ): Promise<void> {
    switch (item.kind) {
      case 'task': {
        const node = taskNode(plan, item.node);
        // A large input goes to where the task runs as it is stored, and a large value
        // comes back encoded there (`WireBytes`): it is only stored, and passed on by
        // reference. For a task of the pool threads, this thread neither decodes nor
        // encodes them.
        const { input } = item;
        const run = { ...taskRun(node, node.args, true, context), wire: true };
        const outcome = await this.deps.runner.run(
          !node.receivesInput
            ? run
            : input !== undefined && !('v' in input)
              ? { ...run, firstArgEncoded: await this.deps.values.loadWire(input) }
              : { ...run, args: [input?.v, ...node.args] },
        );
        if (!outcome.ok) return this.endings.failTask(job, node, outcome);
        // A job of one task reports the task in its end event: one publication less.
        if (plan.root === node) job.endTasks = [completion(node, outcome)];
        else this.recordUnit(job, item, { completions: [completion(node, outcome)], count: 1 });
        return this.progression.complete(job, node, outcome.value, undefined, out);
      }
      case 'batch': {
        const group = groupNode(plan, item.node);
        const input = item.input === undefined ? undefined : await this.deps.values.load(item.input);
        const members = batchMembers(group, item.index);
        let failing: Promise<void> | undefined;
        const settled = await Promise.allSettled(
          members.map(async (m) => {
            const outcome = await this.run(m, m.receivesInput ? [input, ...m.args] : m.args, true, context);
            // The first failure fails the job at once, which stops the members still running.
            if (!outcome.ok && !failing) {
              failing = this.endings.failTask(job, m, outcome);
              // Returned once every member has settled; until then, a failure to fail
              // the job (NATS refusing the record) must not go unhandled.
              failing.catch(() => undefined);
            }
            return outcome;
          }),
        );
        if (failing) return failing;
        const rejected = settled.find((s) => s.status === 'rejected');
        if (rejected) throw rejected.reason;
        const outcomes = settled.map((s) => (s as PromiseFulfilledResult<TaskOutcome>).value);
        const completions = members.map((m, i) => completion(m, outcomes[i] as TaskOutcome & { ok: true }));
        this.recordUnit(job, item, { completions, count: members.length });
        const values = outcomes.map((o) => (o as TaskOutcome & { ok: true }).value);
        return this.progression.groupLevelDone(job, group, 1, item.index, values, out);
      }
      case 'chunk': {
        const mr = mapReduceNode(plan, item.node);
        const pointer = `${mr.map.pointer}#chunk/${item.index}`;
        // Chunks of one reduce step that finish here while this one runs wait for it:
        // their inputs, events and acknowledgements then go out together.
        const hold = this.progression.holdChunk(job.id, mr, item.index);
        try {
          const input = await this.fileSteps.mapInput(chunkOf(mr.input, mr.chunkSize, item.index), mr.map.args, context.signal, mr.map.options);
          if (!input.ok) {
            hold.release();
            return await this.endings.failTask(job, { ...mr.map, pointer }, input);
          }
          let outcome = await this.deps.runner.run({ ...taskRun(mr.map, [], false, context), ...input.value, wire: mr.output === undefined });
          if (outcome.ok && mr.output !== undefined) outcome = await this.fileSteps.writeOutputPiece(job.id, mr, outcome);
          if (!outcome.ok) {
            hold.release();
            return await this.endings.failTask(job, { ...mr.map, pointer }, outcome);
          }
          const unit = { completions: [completion({ ...mr.map, pointer }, outcome)], count: 1 };
          return await this.progression.chunkDone(job, mr, item.index, outcome.value, out, {
            hold,
            onWrite: () => {
              this.recordUnit(job, item, unit);
              return Promise.all(job.events);
            },
          });
        } finally {
          hold.release();
        }
      }
      case 'reduce': {
        const mr = mapReduceNode(plan, item.node);
        const final = item.level === mr.levels.length;
        const outcome =
          mr.output === undefined
            ? await this.deps.runner.run({
                ...taskRun(mr.reduce, mr.reduce.args, final, context),
                firstArgWire: await this.progression.reduceInputWire(job.id, mr, item.level, item.index),
                wire: true,
              })
            : await this.fileSteps.assembleOutput(
                job.id,
                mr,
                mr.output,
                (await this.progression.reduceInputValues(job.id, mr, item.level, item.index)) as UploadedParts[],
                final,
              );
        const pointer = `${mr.reduce.pointer}#reduce/${item.level}/${item.index}`;
        if (!outcome.ok) return this.endings.failTask(job, { ...mr.reduce, pointer }, outcome);
        this.recordUnit(job, item, { completions: [completion({ ...mr.reduce, pointer }, outcome)], count: 1 });
        return this.progression.reduceDone(job, mr, item.level, item.index, outcome.value, out);
      }
    }
  }

  /** Runs a task whose value is used as it is (never `WireBytes`). */
  private run(
    node: Pick<PlanTask, 'task' | 'options' | 'cpuBound'>,
    args: readonly unknown[],
    final: boolean,
    context: RunContext,
  ): Promise<TaskOutcome> {
    return this.deps.runner.run(taskRun(node, args, final, context));
  }

  /**
   * Publishes the unit's `tasks` event and counts its tasks as done. The unit's
   * result is written once the event is stored (see `JobHandle.events`), and the
   * item acknowledged after both.
   */
  private recordUnit(job: JobHandle, item: WorkItem, unit: ExecutedUnit): void {
    const published = this.deps.dispatcher.eventWithRetries(
      { type: 'tasks', jobId: job.id, at: new Date().toISOString(), tasks: unit.completions },
      `${workItemId(item)}:done`,
      job.signal,
    );
    track(job, published);
    job.events.push(published);
    this.deps.progress.add(job.id, unit.count);
  }

  private handleFor(jobId: string, plan: Plan, signal: AbortSignal, initial?: JobRecord): JobHandle {
    const job: JobHandle = {
      id: jobId,
      signal,
      pending: [],
      events: [],
      ...(initial === undefined ? {} : { initial }),
      finish: async (value: unknown) => {
        await this.endings.succeed(job, plan, value, initial);
        this.deps.plans.forget(jobId);
      },
    };
    return job;
  }
}

function taskRun(
  node: Pick<PlanTask, 'task' | 'options' | 'cpuBound'>,
  args: readonly unknown[],
  final: boolean,
  { claim, signal }: RunContext,
): TaskRun {
  return { task: node.task, args, options: node.options, cpuBound: node.cpuBound, final, signal, ...(claim ? { claim } : {}) };
}


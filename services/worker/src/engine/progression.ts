import {
  childRange,
  ValueTooLargeError,
  type JobRecord,
  type Logger,
  type PlanComposite,
  type PlanGroup,
  type PlanMapReduce,
  type PlanNode,
  type StoredValue,
  type TaskCompletion,
} from '@weft/shared';
import type { ChildTracker } from './child-tracker.js';
import type { AddInputOptions, ReduceInputs } from './reduce-inputs.js';
import type { BatchHold } from './keyed-batches.js';
import type { Dispatch } from './dispatcher.js';
import { groupKey, nodeKey, reduceKey } from './keys.js';
import type { NodeResult, Results } from './results.js';

/** A job being advanced: its id and what finishing it means. */
export interface JobHandle {
  readonly id: string;
  /** Aborted when the job stops or the worker shuts down: publications for it stop being retried then. */
  readonly signal: AbortSignal;
  /** The record the job started with (and when this worker started it), to create it if the API has not yet. */
  readonly initial?: JobRecord;
  /** Publications to wait for before the work item is acknowledged. */
  readonly pending: Promise<unknown>[];
  /**
   * `tasks` events of the work item being processed. Its results are written only
   * once these are stored: a repeat of the item that finds its result stored sends
   * no event, and whatever the result lets happen next (the job's end among it)
   * comes after the event.
   */
  readonly events: Promise<unknown>[];
  /** Completions to send with the job's end event instead of in an event of their own. */
  endTasks?: TaskCompletion[];
  /** Called once the root node has its value. */
  finish(value: unknown): Promise<void>;
}

/**
 * Moves jobs forward: starts nodes (collecting the work items to publish), stores
 * node results, and when a node completes, does what its parent needs next — start
 * the next chain step, count a group member, or trigger a reduce step.
 *
 * Every step is idempotent, so a worker that dies half-way is simply repeated by
 * the next delivery of the same work item: results are written once, children are
 * counted once, and work items carry deterministic ids that JetStream deduplicates.
 */
export class Progression {
  constructor(
    private readonly results: Results,
    private readonly children: ChildTracker,
    private readonly reduceInputs: ReduceInputs,
    private readonly log: Logger,
  ) {}

  /** Starts `node` with an optional incoming value, appending the work items to `out`. */
  async start(job: JobHandle, node: PlanNode, input: StoredValue | undefined, out: Dispatch[]): Promise<void> {
    const withInput = input === undefined ? {} : { input };
    switch (node.kind) {
      case 'task':
        out.push({ queue: node.options.queue, item: { v: 1, kind: 'task', jobId: job.id, node: node.id, ...withInput } });
        return;
      case 'chain':
        return this.start(job, node.steps[0] as PlanNode, input, out);
      case 'group': {
        if (node.members.length === 0) return this.complete(job, node, [], undefined, out);
        for (let j = 0; j < node.batchQueues.length; j++) {
          const queue = node.batchQueues[j];
          if (queue !== undefined) {
            out.push({ queue, item: { v: 1, kind: 'batch', jobId: job.id, node: node.id, index: j, ...withInput } });
            continue;
          }
          const [from, to] = childRange(j, node.fanIn, node.members.length);
          for (let i = from; i < to; i++) await this.start(job, node.members[i] as PlanNode, input, out);
        }
        return;
      }
      case 'mapReduce': {
        if (node.chunkCount === 0) {
          out.push({ queue: node.reduce.options.queue, item: { v: 1, kind: 'reduce', jobId: job.id, node: node.id, level: 1, index: 0 } });
          return;
        }
        for (let i = 0; i < node.chunkCount; i++) {
          out.push({ queue: node.map.options.queue, item: { v: 1, kind: 'chunk', jobId: job.id, node: node.id, index: i } });
        }
        return;
      }
    }
  }

  /** `node` has its value: store it and advance its parent (or finish the job at the root). */
  async complete(job: JobHandle, node: PlanNode, value: unknown, stored: StoredValue | undefined, out: Dispatch[]): Promise<void> {
    await eventsStored(job);
    if (!node.parent) return job.finish(value).catch((err: unknown) => aboutNode(err, node));
    const result = await this.results.put(nodeKey(job.id, node.id), value, stored).catch((err: unknown) => aboutNode(err, node));
    const { node: parent, index } = node.parent;
    return this.childDone(job, parent, index, result, out);
  }

  private async childDone(job: JobHandle, parent: PlanComposite, index: number, result: NodeResult, out: Dispatch[]): Promise<void> {
    if (parent.kind === 'chain') {
      const next = parent.steps[index + 1];
      if (next) return this.start(job, next, result.stored, out);
      return this.complete(job, parent, result.value, result.stored, out);
    }
    if (parent.kind === 'group') return this.memberDone(job, parent, index, out);
    throw new Error(`a map-reduce has no direct children (node ${parent.id})`);
  }

  private async memberDone(job: JobHandle, group: PlanGroup, index: number, out: Dispatch[]): Promise<void> {
    const j = Math.floor(index / group.fanIn);
    const [from, to] = childRange(j, group.fanIn, group.members.length);
    if (!(await this.children.mark(groupKey(job.id, group.id, 1, j), index - from, to - from))) return;
    const members = group.members.slice(from, to);
    const values = await Promise.all(members.map(async (m) => (await this.results.require(nodeKey(job.id, m.id))).value));
    return this.groupLevelDone(job, group, 1, j, values, out);
  }

  /** Aggregation node (`level`, `j`) of a group has the list of its members' values. */
  async groupLevelDone(job: JobHandle, group: PlanGroup, level: number, j: number, values: unknown[], out: Dispatch[]): Promise<void> {
    await eventsStored(job);
    if (level === group.levels.length) return this.complete(job, group, values, undefined, out);
    await this.results.put(groupKey(job.id, group.id, level, j), values).catch((err: unknown) => aboutNode(err, group));
    const parent = Math.floor(j / group.fanIn);
    const siblings = group.levels[level - 1] as number;
    const [from, to] = childRange(parent, group.fanIn, siblings);
    if (!(await this.children.mark(groupKey(job.id, group.id, level + 1, parent), j - from, to - from))) return;
    const parts = await Promise.all(
      Array.from({ length: to - from }, async (_, k) => (await this.results.require(groupKey(job.id, group.id, level, from + k))).value as unknown[]),
    );
    return this.groupLevelDone(job, group, level + 1, parent, parts.flat(1), out);
  }

  /**
   * Map chunk `index` has its value: add it to the inputs of its level-1 reduce step
   * (with the hold taken for it by {@link holdChunk}, if any).
   */
  chunkDone(job: JobHandle, mr: PlanMapReduce, index: number, value: unknown, out: Dispatch[], options?: AddInputOptions): Promise<void> {
    return this.reduceInputDone(job, mr, 1, index, value, out, options);
  }

  /** Announces that map chunk `index` is being computed here (see `ReduceInputs.hold`). */
  holdChunk(jobId: string, mr: PlanMapReduce, index: number): BatchHold {
    return this.reduceInputs.hold(this.reduceSlot(jobId, mr, 1, index).key);
  }

  /** Reduce step (`level`, `j`) has its value: finish the map-reduce or feed the next level. */
  async reduceDone(job: JobHandle, mr: PlanMapReduce, level: number, j: number, value: unknown, out: Dispatch[]): Promise<void> {
    if (level === mr.levels.length) return this.complete(job, mr, value, undefined, out);
    return this.reduceInputDone(job, mr, level + 1, j, value, out);
  }

  /** Whether input `index` of reduce level `level` is already stored (the step that made it may be repeated). */
  hasReduceInput(jobId: string, mr: PlanMapReduce, level: number, index: number): Promise<boolean> {
    const { key, at, size } = this.reduceSlot(jobId, mr, level, index);
    return this.reduceInputs.has(key, at, size);
  }

  /** The values of the inputs of reduce step (`level`, `j`), in order. */
  reduceInputValues(jobId: string, mr: PlanMapReduce, level: number, j: number): Promise<unknown[]> {
    const { key, size } = this.reduceSlot(jobId, mr, level, j * mr.fanIn);
    return this.reduceInputs.load(key, size);
  }

  /** The inputs of reduce step (`level`, `j`), in order, in wire bytes. */
  reduceInputWire(jobId: string, mr: PlanMapReduce, level: number, j: number): Promise<Uint8Array[]> {
    const { key, size } = this.reduceSlot(jobId, mr, level, j * mr.fanIn);
    return this.reduceInputs.loadWire(key, size);
  }

  /** Input `index` of reduce level `level` has its value; dispatch its reduce step once all its inputs are there. */
  private async reduceInputDone(
    job: JobHandle,
    mr: PlanMapReduce,
    level: number,
    index: number,
    value: unknown,
    out: Dispatch[],
    options?: AddInputOptions,
  ): Promise<void> {
    const { key, at, size, step } = this.reduceSlot(job.id, mr, level, index);
    await eventsStored(job);
    if (!(await this.reduceInputs.add(key, at, size, value, options))) return;
    this.log.debug({ jobId: job.id, node: mr.id, level, index: step }, 'reduce step ready');
    out.push({ queue: mr.reduce.options.queue, item: { v: 1, kind: 'reduce', jobId: job.id, node: mr.id, level, index: step } });
  }

  /** Where input `index` of reduce level `level` goes: its step, the step's state key, its slot and the step's input count. */
  private reduceSlot(jobId: string, mr: PlanMapReduce, level: number, index: number) {
    const inputs = level === 1 ? mr.chunkCount : (mr.levels[level - 2] as number);
    const step = Math.floor(index / mr.fanIn);
    const [from, to] = childRange(step, mr.fanIn, inputs);
    return { key: reduceKey(jobId, mr.id, level, step), at: index - from, size: to - from, step };
  }
}

/** Throws `err`, naming `node` when it is about a value too large to store (see `ValueTooLargeError.about`). */
function aboutNode(err: unknown, node: PlanNode): never {
  throw err instanceof ValueTooLargeError ? err.about(node.kind === 'task' ? { pointer: node.pointer, task: node.task } : { pointer: node.pointer }) : err;
}

/** Waits until the `tasks` events of the job's current work item are stored (see `JobHandle.events`). */
async function eventsStored(job: JobHandle): Promise<void> {
  if (job.events.length > 0) await Promise.all(job.events);
}

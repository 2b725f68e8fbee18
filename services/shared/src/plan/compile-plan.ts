import { InvalidSpecError, InvalidTaskArgsError, MAX_REPORTED_ISSUES, UnknownTaskError, SpecLimitError, toPointer, type InputIssue } from '../errors.js';
import { DEFAULT_QUEUE } from '../names.js';
import type { JobNode, TaskNode } from '../spec/job-spec.js';
import { SAVE_TASK } from '../spec/parse-job-spec.js';
import type { NodeOptions, ResolvedTaskOptions } from '../spec/node-options.js';
import type { TaskCatalogue } from '../tasks/index.js';
import { treeLevels } from './aggregation-tree.js';
import { chunkOf, inputLength, isChunkable, type ChunkableInput } from './chunks.js';
import type { Plan, PlanComposite, PlanGroup, PlanNode, PlanTaskTemplate } from './plan.js';

/** Knobs of plan compilation. */
export interface PlanOptions {
  /** Most chunks one map-reduce may have. */
  readonly maxChunks: number;
  /** Most tasks (leaf tasks, map chunks and reduce steps) one job may have. @default unlimited */
  readonly maxTasks?: number;
  /** Members per group aggregation node (and per batch message). @default 64 */
  readonly groupFanIn?: number;
  /** Partials one reduce step combines when the spec does not say. @default 16 */
  readonly defaultReduceFanIn?: number;
  /** Chunks a map-reduce is cut into when the spec gives neither `chunkSize` nor `chunks`. @default 64 */
  readonly defaultChunks?: number;
  /**
   * Whether every inline map-reduce item is checked against the map task's arguments;
   * a spec checked at submission need not be again, and only its first items are.
   * @default true
   */
  readonly checkAllItems?: boolean;
}

const DEFAULT_TASK_OPTIONS: ResolvedTaskOptions = { queue: DEFAULT_QUEUE, retries: 0, backoffMs: 1000 };

function inherit(parent: ResolvedTaskOptions, own: NodeOptions): ResolvedTaskOptions {
  // Most nodes set no options of their own: share the parent's object.
  if (own.queue === undefined && own.retries === undefined && own.backoffMs === undefined && own.timeoutMs === undefined) {
    return parent;
  }
  const timeoutMs = own.timeoutMs ?? parent.timeoutMs;
  return {
    queue: own.queue ?? parent.queue,
    retries: own.retries ?? parent.retries,
    backoffMs: own.backoffMs ?? parent.backoffMs,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

/**
 * What a map task over a file split is checked against at submission: the engine
 * hands it the split's lines in this shape at run time.
 */
const FILE_SPLIT_SAMPLE = Object.freeze({ file: '', bytes: new Uint8Array(0) });

/** Task name of the reduce steps of a map-reduce with an `output` file; run by the engine itself. */
export const OUTPUT_ASSEMBLY_TASK = 'assemble-output';

/**
 * Compiles a validated spec into a plan: resolves inherited options, checks every
 * task name and argument list against the catalogue, sizes map-reduce chunks and
 * aggregation trees. Deterministic, so the API and every worker derive the same ids.
 * @throws UnknownTaskError, InvalidTaskArgsError, SpecLimitError
 */
export function compilePlan(spec: JobNode, catalogue: TaskCatalogue, options: PlanOptions): Plan {
  const groupFanIn = options.groupFanIn ?? 64;
  const index = new Map<string, PlanNode>();
  let taskCount = 0;
  const queues = new Set<string>();
  const maxTasks = options.maxTasks ?? Number.POSITIVE_INFINITY;
  /** Counts `n` more tasks, from the node at `pointer`. */
  const countTasks = (n: number, pointer: string): void => {
    taskCount += n;
    if (taskCount > maxTasks) {
      throw new SpecLimitError('maxTasks', maxTasks, pointer, `the job would have more than ${maxTasks} tasks (leaf tasks, map chunks and reduce steps)`);
    }
  };

  const checkTask = (node: TaskNode, pointer: string, firstArg: 'input' | 'none' | FirstArgSample): { cpuBound: boolean; args: unknown[] } => {
    const def = catalogue.get(node.task);
    if (!def) throw new UnknownTaskError(node.task, `${pointer}/task`, catalogue.names());
    const args = node.args ?? [];
    const candidate = firstArg === 'none' ? args : [firstArg === 'input' ? null : firstArg.sample, ...args];
    const result = catalogue.parseArgs(node.task, candidate);
    if (!result.ok) {
      const shift = firstArg === 'none' ? 0 : 1;
      const issues: InputIssue[] = [];
      for (const issue of result.issues) {
        const [head, ...rest] = issue.path;
        if (firstArg !== 'none' && head === 0) {
          // The incoming value is only known at run time: problems with it are reported then.
          if (firstArg === 'input') continue;
          // A map-reduce's own input: the fault lies in it, or in the task chosen for it.
          const [index, ...more] = rest;
          const inInput = typeof index === 'number' ? [index + (firstArg.offset ?? 0), ...more] : rest;
          const at = rest.length === 0 || firstArg.input === undefined ? `${pointer}/task` : `${firstArg.input}${toPointer(inInput)}`;
          issues.push({ pointer: at, message: `${firstArg.describe}: ${issue.message}` });
          continue;
        }
        const argPath = typeof head === 'number' ? [head - shift, ...rest] : issue.path;
        issues.push({ pointer: `${pointer}/args${toPointer(argPath)}`, message: issue.message });
      }
      if (issues.length > 0) throw new InvalidTaskArgsError(node.task, issues.slice(0, MAX_REPORTED_ISSUES));
    }
    return { cpuBound: def.cpuBound, args };
  };

  const template = (
    node: TaskNode,
    pointer: string,
    parent: ResolvedTaskOptions,
    parentLabel: string | undefined,
    sample: FirstArgSample,
  ): PlanTaskTemplate => {
    const { cpuBound, args } = checkTask(node, pointer, sample);
    const resolved = inherit(parent, node);
    queues.add(resolved.queue);
    return {
      task: node.task,
      args,
      options: resolved,
      cpuBound,
      pointer,
      label: node.label ?? parentLabel,
    };
  };

  const build = (
    spec: JobNode,
    id: string,
    pointer: string,
    inherited: ResolvedTaskOptions,
    receivesInput: boolean,
    inheritedLabel: string | undefined,
  ): PlanNode => {
    // Like the other options, a label is the default of the nodes below.
    const label = spec.label ?? inheritedLabel;
    if (spec.save !== undefined) {
      // A chain of the node and a `save` step, standing where the node does in the spec.
      // The step is the node's, so the node's options are its defaults (its queue first).
      const { save, ...rest } = spec;
      const steps = [
        build(rest, `${id}.0`, pointer, inherited, receivesInput, inheritedLabel),
        build({ task: SAVE_TASK, args: [save] }, `${id}.1`, `${pointer}/save`, inherit(inherited, spec), true, label),
      ];
      return register({ id, pointer, label, parent: undefined, kind: 'chain', steps });
    }
    const opts = inherit(inherited, spec);
    // Nodes are written as plain literals with every field (parent too): spreading a
    // base object into each of thousands of nodes is several times slower in V8.
    let node: PlanNode;
    if ('task' in spec) {
      const { cpuBound, args } = checkTask(spec, pointer, receivesInput ? 'input' : 'none');
      countTasks(1, pointer);
      queues.add(opts.queue);
      node = { id, pointer, label, parent: undefined, kind: 'task', task: spec.task, args, options: opts, cpuBound, receivesInput };
    } else if ('chain' in spec) {
      const steps = spec.chain.map((s, i) => build(s, `${id}.${i}`, `${pointer}/chain/${i}`, opts, i > 0 || receivesInput, label));
      node = { id, pointer, label, parent: undefined, kind: 'chain', steps };
    } else if ('group' in spec) {
      const members = spec.group.map((m, i) => build(m, `${id}.${i}`, `${pointer}/group/${i}`, opts, receivesInput, label));
      node = groupNode({ id, pointer, label, parent: undefined }, members, groupFanIn);
    } else if ('chord' in spec) {
      // A chord is a chain of its header group and its body.
      const header = spec.chord.header.map((m, i) =>
        build(m, `${id}.0.${i}`, `${pointer}/chord/header/${i}`, opts, receivesInput, label),
      );
      const group = groupNode({ id: `${id}.0`, pointer: `${pointer}/chord/header`, label: undefined, parent: undefined }, header, groupFanIn);
      adopt(group);
      index.set(group.id, group);
      const body = build(spec.chord.body, `${id}.1`, `${pointer}/chord/body`, opts, true, label);
      node = { id, pointer, label, parent: undefined, kind: 'chain', steps: [group, body] };
    } else {
      const mr = spec.mapReduce;
      const mrPointer = `${pointer}/mapReduce`;
      const input = mr.input;
      if (!isChunkable(input)) {
        throw new InvalidSpecError([{ pointer: `${mrPointer}/input`, message: 'file inputs must be resolved before the job is planned' }]);
      }
      const itemCount = inputLength(input);
      const files = 'files' in input;
      const wantedChunks = mr.chunks ?? options.defaultChunks ?? 64;
      const chunkSize = files ? 1 : (mr.chunkSize ?? Math.max(1, Math.ceil(itemCount / wantedChunks)));
      const chunkCount = files ? input.files.splits.length : Math.ceil(itemCount / chunkSize);
      if (chunkCount > options.maxChunks) {
        throw new SpecLimitError(
          'maxChunks',
          options.maxChunks,
          mrPointer,
          `the map-reduce would have ${chunkCount} chunks; at most ${options.maxChunks} are allowed (raise chunkSize)`,
        );
      }
      const fanIn = mr.fanIn ?? options.defaultReduceFanIn ?? 16;
      const levels = treeLevels(chunkCount, fanIn);
      const [first, ...others] = mapSamples(input, chunkSize, chunkCount, `${mrPointer}/input`, options.checkAllItems ?? true);
      const map = template(mr.map, `${mrPointer}/map`, opts, label, first as FirstArgSample);
      for (const sample of others) checkTask(mr.map, `${mrPointer}/map`, sample);
      const reduce = mr.reduce
        ? template(mr.reduce, `${mrPointer}/reduce`, opts, label, { sample: [], describe: 'the reduce task receives a list of partial results first' })
        : { task: OUTPUT_ASSEMBLY_TASK, args: [], options: opts, cpuBound: false, pointer: `${mrPointer}/output`, label };
      queues.add(reduce.options.queue);
      countTasks(chunkCount + levels.reduce((a, b) => a + b, 0), mrPointer);
      const output = mr.output;
      node = { id, pointer, label, parent: undefined, kind: 'mapReduce', input, itemCount, chunkSize, chunkCount, fanIn, levels, map, reduce, output };
    }
    return register(node);
  };
  /** Indexes `node` by id and makes it the parent of its children. */
  const register = (node: PlanNode): PlanNode => {
    index.set(node.id, node);
    if (node.kind !== 'task') adopt(node);
    return node;
  };

  // The start item goes to the root's own queue, whichever queues its tasks use.
  queues.add(spec.queue ?? DEFAULT_QUEUE);
  const root = build(spec, 'r', '', DEFAULT_TASK_OPTIONS, false, undefined);
  return { root, taskCount, nodeCount: index.size, queues, node: (id) => index.get(id) };
}

/** What a map-reduce's map or reduce task is checked with at submission, in place of its first argument. */
interface FirstArgSample {
  readonly sample: unknown;
  /** What the task is given, for messages. */
  readonly describe: string;
  /** Where in the spec the sample's contents come from, if they do. */
  readonly input?: string;
  /** Index in the input of the sample's first item. @default 0 */
  readonly offset?: number;
}

/** Inline items checked at once, a window at a time: a bad window stops the check, and its issues are few. */
const ITEM_CHECK_WINDOW = 1024;


/**
 * The map task's first argument as it will come: inline items are all checked (each
 * chunk is a slice of them, so an item no chunk could take is found now), in windows,
 * or only the first window unless `allItems`; a range by its first chunk, as all of
 * them are alike; a file by the shape of a split.
 */
function mapSamples(input: ChunkableInput, chunkSize: number, chunkCount: number, at: string, allItems: boolean): FirstArgSample[] {
  const describe = 'the map task receives each chunk of the input first';
  if ('files' in input) return [{ sample: FILE_SPLIT_SAMPLE, describe }];
  if ('items' in input) {
    const { items } = input;
    const windows: FirstArgSample[] = [];
    const end = allItems ? items.length : Math.min(items.length, ITEM_CHECK_WINDOW);
    for (let offset = 0; offset === 0 || offset < end; offset += ITEM_CHECK_WINDOW) {
      windows.push({ sample: items.slice(offset, offset + ITEM_CHECK_WINDOW), describe, input: `${at}/items`, offset });
    }
    return windows;
  }
  return [{ sample: chunkCount > 0 ? chunkOf(input, chunkSize, 0) : [], describe, input: `${at}/range` }];
}

function adopt(node: PlanComposite): void {
  const children = node.kind === 'chain' ? node.steps : node.kind === 'group' ? node.members : [];
  children.forEach((child, i) => {
    child.parent = { node, index: i };
  });
}

function groupNode(base: { id: string; pointer: string; label: string | undefined; parent: undefined }, members: PlanNode[], fanIn: number): PlanGroup {
  const levels = treeLevels(members.length, fanIn);
  const batchQueues: (string | undefined)[] = [];
  for (let j = 0; j < (levels[0] ?? 0); j++) {
    const first = members[j * fanIn];
    let queue = first?.kind === 'task' && !first.cpuBound ? first.options.queue : undefined;
    for (let i = j * fanIn + 1; queue !== undefined && i < Math.min((j + 1) * fanIn, members.length); i++) {
      const m = members[i] as PlanNode;
      if (m.kind !== 'task' || m.cpuBound || m.options.queue !== queue) queue = undefined;
    }
    batchQueues.push(queue);
  }
  return { id: base.id, pointer: base.pointer, label: base.label, parent: undefined, kind: 'group', members, fanIn, levels, batchQueues };
}

import type { ChunkableInput } from './chunks.js';
import type { ResolvedTaskOptions } from '../spec/node-options.js';

/** Fields every node of a compiled plan has. */
interface PlanNodeBase {
  /** Stable id inside the job, used in keys and messages: `r`, `r.0`, `r.2.1`. */
  readonly id: string;
  /** JSON Pointer of the node in the submitted spec, for messages meant for users. */
  readonly pointer: string;
  readonly label: string | undefined;
  /** Where the node's value goes; absent on the root. */
  parent: PlanParent | undefined;
}

/** A node's place under its parent. */
export interface PlanParent {
  readonly node: PlanComposite;
  readonly index: number;
}

/** One call of a catalogue task. */
export interface PlanTask extends PlanNodeBase {
  readonly kind: 'task';
  readonly task: string;
  readonly args: readonly unknown[];
  readonly options: ResolvedTaskOptions;
  readonly cpuBound: boolean;
  /** Whether the node's incoming value is prepended to `args`. */
  readonly receivesInput: boolean;
}

export interface PlanChain extends PlanNodeBase {
  readonly kind: 'chain';
  readonly steps: readonly PlanNode[];
}

export interface PlanGroup extends PlanNodeBase {
  readonly kind: 'group';
  readonly members: readonly PlanNode[];
  /** Members combined per aggregation node. */
  readonly fanIn: number;
  /** Aggregation nodes per level, level 1 first. */
  readonly levels: readonly number[];
  /**
   * For each level-1 aggregation node, the queue its members share when all of them
   * are light tasks that can run as one batch message; `undefined` otherwise.
   */
  readonly batchQueues: readonly (string | undefined)[];
}

/** A task used as the map or reduce step of a map-reduce (no id of its own). */
export interface PlanTaskTemplate {
  readonly task: string;
  readonly args: readonly unknown[];
  readonly options: ResolvedTaskOptions;
  readonly cpuBound: boolean;
  readonly pointer: string;
  readonly label: string | undefined;
}

export interface PlanMapReduce extends PlanNodeBase {
  readonly kind: 'mapReduce';
  readonly input: ChunkableInput;
  readonly itemCount: number;
  readonly chunkSize: number;
  readonly chunkCount: number;
  readonly fanIn: number;
  /** Reduce nodes per level, level 1 first. */
  readonly levels: readonly number[];
  readonly map: PlanTaskTemplate;
  /** The reducer; for a map-reduce with an `output` file, the engine's own assembly of the output. */
  readonly reduce: PlanTaskTemplate;
  /** Stored file that receives the map values in order, instead of a reduction. */
  readonly output: string | undefined;
}

export type PlanComposite = PlanChain | PlanGroup | PlanMapReduce;
export type PlanNode = PlanTask | PlanComposite;

/** A compiled job: the node tree plus indexes for finding nodes by id. */
export interface Plan {
  readonly root: PlanNode;
  /** Tasks the job runs in all: leaf tasks, map chunks and reduce steps. */
  readonly taskCount: number;
  /** Real nodes of the plan (those {@link node} finds): what its memory grows with, beside its spec. */
  readonly nodeCount: number;
  /** Every queue the job's work goes to: its start item's, and those of all its tasks. */
  readonly queues: ReadonlySet<string>;
  /** Looks up a real (non-virtual) node by id. */
  node(id: string): PlanNode | undefined;
}

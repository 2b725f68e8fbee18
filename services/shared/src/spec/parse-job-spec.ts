import { z } from 'zod';
import { InvalidSpecError, SpecLimitError, toPointer, type InputIssue } from '../errors.js';
import { flattenIssues } from '../zod-issues.js';
import {
  ChainNodeSchema,
  ChordNodeSchema,
  GroupNodeSchema,
  MapReduceNodeSchema,
  NODE_KINDS,
  TaskNodeSchema,
  type JobNode,
  type NodeKind,
} from './job-spec.js';

/** Structural limits on a job spec. */
export interface SpecLimits {
  /** Most nodes (tasks and composites, map-reduce counted once) in one spec. */
  readonly maxNodes: number;
  /** Deepest nesting of composite nodes. */
  readonly maxDepth: number;
}

/** Options of {@link parseJobSpec}. */
export interface ParseJobSpecOptions {
  /** Accept resolved file inputs (`{"files": …}`), which only the API produces. @default false */
  readonly allowResolvedInputs?: boolean;
}

/** The task a node's `save` option adds, as the step after the node (see `compilePlan`). */
export const SAVE_TASK = 'save';

/**
 * Shallow variants: children are left as `unknown` and validated one by one while
 * walking, so an error deep in the tree is reported with its own path instead of
 * as a failed union at the top.
 */
const shallow = {
  task: TaskNodeSchema,
  chain: ChainNodeSchema.extend({ chain: z.array(z.unknown()).min(1) }),
  group: GroupNodeSchema.extend({ group: z.array(z.unknown()) }),
  chord: ChordNodeSchema.extend({
    chord: z.strictObject({ header: z.array(z.unknown()), body: z.unknown() }),
  }),
  mapReduce: MapReduceNodeSchema,
} satisfies Record<NodeKind, z.ZodType>;

function issuesOf(error: z.ZodError, base: readonly PropertyKey[]): InputIssue[] {
  return flattenIssues(error.issues, base).map((issue) => ({ pointer: toPointer(issue.path), message: issue.message }));
}

function kindOf(value: unknown, path: readonly PropertyKey[]): NodeKind {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidSpecError([
      { pointer: toPointer(path), message: `expected a node object with one of: ${NODE_KINDS.join(', ')}` },
    ]);
  }
  const kinds = NODE_KINDS.filter((k) => Object.hasOwn(value, k));
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0
        ? `a node needs exactly one of: ${NODE_KINDS.join(', ')}`
        : `a node may have only one of ${kinds.join(', ')}`;
    throw new InvalidSpecError([{ pointer: toPointer(path), message }]);
  }
  return kinds[0] as NodeKind;
}

/**
 * Validates an untrusted job spec against the schema and the structural limits.
 * @throws InvalidSpecError with the offending field's JSON Pointer
 * @throws SpecLimitError when the spec is too large or too deep
 */
export function parseJobSpec(input: unknown, limits: SpecLimits, options: ParseJobSpecOptions = {}): JobNode {
  let nodes = 0;
  const walk = (value: unknown, path: PropertyKey[], depth: number): JobNode => {
    if (++nodes > limits.maxNodes) {
      throw new SpecLimitError(
        'maxNodes',
        limits.maxNodes,
        toPointer(path),
        `the spec has more than ${limits.maxNodes} nodes`,
      );
    }
    if (depth > limits.maxDepth) {
      throw new SpecLimitError(
        'maxDepth',
        limits.maxDepth,
        toPointer(path),
        `the spec nests deeper than ${limits.maxDepth} levels`,
      );
    }
    const kind = kindOf(value, path);
    const parsed = shallow[kind].safeParse(value);
    if (!parsed.success) throw new InvalidSpecError(issuesOf(parsed.error, path));
    const node = parsed.data as Record<string, unknown>;
    switch (kind) {
      case 'task':
        return node as JobNode;
      case 'mapReduce': {
        const mr = node.mapReduce as { input: object };
        if ('files' in mr.input && !options.allowResolvedInputs) {
          throw new InvalidSpecError([
            { pointer: toPointer([...path, 'mapReduce', 'input', 'files']), message: 'use "file", "path" or "url" to name input files' },
          ]);
        }
        return node as JobNode;
      }
      case 'chain':
      case 'group': {
        const children = node[kind] as unknown[];
        return { ...node, [kind]: children.map((c, i) => walk(c, [...path, kind, i], depth + 1)) } as JobNode;
      }
      case 'chord': {
        const chord = node.chord as { header: unknown[]; body: unknown };
        return {
          ...node,
          chord: {
            header: chord.header.map((c, i) => walk(c, [...path, 'chord', 'header', i], depth + 2)),
            body: walk(chord.body, [...path, 'chord', 'body'], depth + 1),
          },
        };
      }
    }
  };
  return walk(input, [], 1);
}

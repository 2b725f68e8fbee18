import { z } from 'zod';
import {
  ResolvedFilesInputSchema,
  StoreFilesInputSchema,
  UrlFilesInputSchema,
  VolumeFilesInputSchema,
} from '../file-inputs/file-input-schemas.js';
import { FileNameSchema } from '../file-store/file-names.js';
import { MAX_SPLIT_BYTES } from '../files/byte-splits.js';
import { nodeOptionsShape, type NodeOptions } from './node-options.js';

/** A task name as written in a spec. */
export const TaskNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, 'task names are kebab-case');

/** Positional task arguments: any JSON values (integers beyond 2^53 arrive as bigint). */
export const TaskArgsSchema = z.array(z.unknown()).max(10_000);

/** A numeric range: `start` inclusive, `end` exclusive. */
export const RangeInputSchema = z
  .strictObject({
    start: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    end: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  })
  .refine((r) => r.end >= r.start, { message: 'end must not be less than start', path: ['end'] });

/**
 * Input of a map-reduce: inline items, a lazily expanded numeric range, or files
 * (stored, on the shared volume, or over HTTP), cut into line-aligned splits. The
 * API turns file inputs into their resolved form at submission.
 */
export const MapReduceInputSchema = z.union(
  [
    z.strictObject({ items: z.array(z.unknown()) }),
    z.strictObject({ range: RangeInputSchema }),
    StoreFilesInputSchema,
    VolumeFilesInputSchema,
    UrlFilesInputSchema,
    ResolvedFilesInputSchema,
  ],
  { error: 'expected an object with exactly one of: items, range, file, path, url' },
);
export type MapReduceInput = z.infer<typeof MapReduceInputSchema>;

/** One task: `{"task": "add", "args": [4, 6]}`. */
export const TaskNodeSchema = z.strictObject({
  task: TaskNameSchema,
  args: TaskArgsSchema.optional(),
  ...nodeOptionsShape,
});
export type TaskNode = z.infer<typeof TaskNodeSchema>;

/**
 * The recursive shape of a job node. Leaves and options come from the zod schemas;
 * only the recursion is spelled out, because TypeScript cannot infer a recursive union.
 */
export type JobNode =
  | TaskNode
  | (NodeOptions & { chain: JobNode[] })
  | (NodeOptions & { group: JobNode[] })
  | (NodeOptions & { chord: { header: JobNode[]; body: JobNode } })
  | MapReduceNode;
export type ChainNode = Extract<JobNode, { chain: unknown }>;
export type GroupNode = Extract<JobNode, { group: unknown }>;
export type ChordNode = Extract<JobNode, { chord: unknown }>;

/** Steps run one after another; each step's value is the first argument of the next. */
export const ChainNodeSchema = z.strictObject({
  chain: z.array(z.lazy(() => JobNodeSchema)).min(1),
  ...nodeOptionsShape,
});

/** Members run in parallel; the value is the list of member values in submission order. */
export const GroupNodeSchema = z.strictObject({
  group: z.array(z.lazy(() => JobNodeSchema)),
  ...nodeOptionsShape,
});

/** A group (`header`) whose list of values is the first argument of `body`. */
export const ChordNodeSchema = z.strictObject({
  chord: z.strictObject({
    header: z.array(z.lazy(() => JobNodeSchema)),
    body: z.lazy(() => JobNodeSchema),
  }),
  ...nodeOptionsShape,
});

/**
 * Splits `input` into chunks, maps each chunk with `map`, and reduces the partials
 * as an ordered tree with `reduce`; or, with `output` instead of `reduce`, writes the
 * map values (text) one after another into a new stored file.
 */
export const MapReduceNodeSchema = z.strictObject({
  mapReduce: z
    .strictObject({
      input: MapReduceInputSchema,
      /** Items per chunk. @default enough for at most 64 chunks */
      chunkSize: z.number().int().min(1).optional(),
      /** Number of chunks (for file inputs: the target number of splits), as an alternative to `chunkSize`/`splitBytes`. */
      chunks: z.number().int().min(1).optional(),
      /** Bytes per split of a file input, at most 512 MiB less 64 KiB (see `MAX_SPLIT_BYTES`). @default 8 MiB */
      splitBytes: z.number().int().min(1).max(MAX_SPLIT_BYTES).optional(),
      /** How many partials one reduce step combines. @default 16 */
      fanIn: z.number().int().min(2).max(1024).optional(),
      map: TaskNodeSchema,
      reduce: TaskNodeSchema.optional(),
      /** Name of a stored file that receives the map values in input order (map-only; no `reduce`). */
      output: FileNameSchema.optional(),
    })
    .superRefine((mr, ctx) => {
      if (mr.reduce === undefined && mr.output === undefined) {
        ctx.addIssue({ code: 'custom', path: ['reduce'], message: 'a map-reduce needs `reduce` (to combine the map values) or `output` (a file to write them to)' });
      }
      if (mr.reduce !== undefined && mr.output !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['output'], message: 'a map-reduce takes `reduce` or `output`, not both' });
      }
      if (mr.map.save !== undefined) ctx.addIssue({ code: 'custom', path: ['map', 'save'], message: '`save` is not allowed on map tasks' });
      if (mr.reduce?.save !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['reduce', 'save'], message: '`save` is not allowed on reduce tasks; put it on the map-reduce' });
      }
    }),
  ...nodeOptionsShape,
});
export type MapReduceNode = z.infer<typeof MapReduceNodeSchema>;

/** Any node of a job: task, chain, group, chord or map-reduce; they nest freely. */
export const JobNodeSchema: z.ZodType<JobNode> = z.union([
  TaskNodeSchema,
  ChainNodeSchema,
  GroupNodeSchema,
  ChordNodeSchema,
  MapReduceNodeSchema,
]);

/** The keys that tell node kinds apart; a node has exactly one. */
export const NODE_KINDS = ['task', 'chain', 'group', 'chord', 'mapReduce'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

import { z } from 'zod';
import { SaveOptionsSchema } from '../file-inputs/file-input-schemas.js';
import { NAME_PATTERN } from '../names.js';

/** Options any node may carry. Options on a composite node are defaults for the tasks below it. */
export const nodeOptionsShape = {
  /** Named worker pool the node's tasks are routed to. @default "default" (inherited from the parent) */
  queue: z
    .string()
    .regex(NAME_PATTERN, 'queue names are 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit')
    .optional(),
  /** How many times a failing task is retried before the job fails. @default 0 */
  retries: z.number().int().min(0).max(100).optional(),
  /** Delay before the first retry, in milliseconds; doubles on every further attempt. @default 1000 */
  backoffMs: z.number().int().min(0).max(3_600_000).optional(),
  /** Time limit of one attempt from its start (time waiting for a thread is not counted), in milliseconds; an attempt over it fails (and may be retried). @default none */
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  /** Free text shown in events, errors and listings. */
  label: z.string().max(200).optional(),
  /** Saves the node's value as a stored file (the value passes on unchanged). */
  save: SaveOptionsSchema.optional(),
} as const;

/** Node options as written in a spec. */
export const NodeOptionsSchema = z.object(nodeOptionsShape);
export type NodeOptions = z.infer<typeof NodeOptionsSchema>;

/** Options after inheritance and defaults, as the worker applies them. */
export const ResolvedTaskOptionsSchema = z.object({
  queue: z.string(),
  retries: z.number().int(),
  backoffMs: z.number().int(),
  timeoutMs: z.number().int().optional(),
});
export type ResolvedTaskOptions = z.infer<typeof ResolvedTaskOptionsSchema>;

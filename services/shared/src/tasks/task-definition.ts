/**
 * The contract between the engine and a task implementation.
 */
import type { z } from 'zod';

/** What a task sees besides its arguments. */
export interface TaskContext {
  /** Aborted when the task is cancelled or times out; long-running tasks should honour it. */
  readonly signal: AbortSignal;
  /**
   * True when this run produces the node's final value (the root of a reduce tree,
   * or a task that is not part of a map-reduce); set by the engine. Tasks whose
   * partial results differ from their user-facing result (e.g. `word-count`) return
   * the user-facing form only then.
   */
  readonly final?: boolean;
}

/**
 * A task the workers can run. Arguments are positional: in a chain the previous
 * step's value is prepended as the first argument, a map task gets its chunk as the
 * first argument and a reduce task the list of partial results.
 */
export interface TaskDefinition<A extends z.ZodType<unknown[]> = z.ZodType<unknown[]>> {
  /** Kebab-case name, unique within a catalogue. */
  readonly name: string;
  /** One sentence, shown in `GET /v1/tasks`. */
  readonly description: string;
  /** True: runs on the worker's thread pool; false: runs on the event loop. */
  readonly cpuBound: boolean;
  /** Zod schema of the positional argument list (usually a `z.tuple([...])`). */
  readonly args: A;
  /**
   * Runs the task on validated arguments. May return a Promise. The value must be
   * JSON (number, bigint, string, boolean, null, arrays and plain objects of them).
   * Throw {@link PermanentTaskError} for failures a retry cannot fix; any other
   * error is treated as retryable.
   */
  run(args: z.infer<A>, ctx: TaskContext): unknown;
}

/** Identity helper that infers the argument types of `run` from the `args` schema. */
export function defineTask<A extends z.ZodType<unknown[]>>(def: TaskDefinition<A>): TaskDefinition<A> {
  return def;
}

/** Thrown by a task for a failure that retrying cannot fix (bad input); the engine does not retry it. */
export class PermanentTaskError extends Error {
  /** Stable machine-readable code. */
  readonly code = 'TASK_PERMANENT_FAILURE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}

/** Whether an error is a {@link PermanentTaskError}, also across realms (e.g. after a worker thread). */
export function isPermanentTaskError(error: unknown): error is PermanentTaskError {
  return (
    error instanceof PermanentTaskError ||
    (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'TASK_PERMANENT_FAILURE')
  );
}

/**
 * The registry of tasks a worker can run, with argument validation.
 */
import { z } from 'zod';
import { InvalidTaskArgsError, toPointer } from '../errors.js';
import { flattenIssues } from '../zod-issues.js';
import { addTask } from './add.js';
import { checksumTask } from './checksum.js';
import { countPrimesTask } from './count-primes.js';
import { echoTask } from './echo.js';
import { failTask } from './fail.js';
import { fibonacciTask } from './fibonacci.js';
import { grepTask } from './grep.js';
import { lineCountTask } from './line-count.js';
import { multiplyTask } from './multiply.js';
import { saveTask } from './save.js';
import { sleepTask } from './sleep.js';
import { squaresTask } from './squares.js';
import { sumOfSquaresTask } from './sum-of-squares.js';
import { sumTask } from './sum.js';
import type { TaskDefinition } from './task-definition.js';
import { textStatsTask } from './text-stats.js';
import { transformTask } from './transform.js';
import { wordCountTask } from './word-count.js';

/** The tasks every Weft worker provides. */
export const builtinTasks: readonly TaskDefinition[] = Object.freeze([
  addTask,
  multiplyTask,
  sumTask,
  squaresTask,
  sumOfSquaresTask,
  sleepTask,
  fibonacciTask,
  countPrimesTask,
  echoTask,
  failTask,
  wordCountTask,
  textStatsTask,
  grepTask,
  lineCountTask,
  transformTask,
  saveTask,
  checksumTask,
]);

/** One problem with a task's arguments; `path` starts at the argument index. */
export interface TaskArgIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** The error of a task run whose arguments were rejected with `issues` (pointers start at the argument index). */
export function invalidArgsError(task: string, issues: readonly TaskArgIssue[]): InvalidTaskArgsError {
  return new InvalidTaskArgsError(task, issues.map((issue) => ({ pointer: toPointer(issue.path), message: issue.message })));
}

/** Outcome of {@link TaskCatalogue.parseArgs}. */
export type ParseArgsResult = { ok: true; args: unknown[] } | { ok: false; issues: TaskArgIssue[] };

/** What `GET /v1/tasks` shows about a task. */
export interface TaskDescription {
  readonly name: string;
  readonly description: string;
  readonly cpuBound: boolean;
  /** JSON Schema (draft 2020-12) of the positional argument list. */
  readonly args: Record<string, unknown>;
}

const TASK_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** A set of tasks, looked up by name. */
export class TaskCatalogue {
  readonly #tasks = new Map<string, TaskDefinition>();
  #descriptions: TaskDescription[] | undefined;

  /**
   * @throws Error when a name is not kebab-case or appears twice.
   */
  constructor(tasks: Iterable<TaskDefinition>) {
    for (const task of tasks) {
      if (!TASK_NAME.test(task.name)) throw new Error(`task name "${task.name}" is not kebab-case`);
      if (this.#tasks.has(task.name)) throw new Error(`duplicate task name "${task.name}"`);
      this.#tasks.set(task.name, task);
    }
  }

  /** A catalogue of the {@link builtinTasks}. */
  static builtin(): TaskCatalogue {
    return new TaskCatalogue(builtinTasks);
  }

  /** The task called `name`, if any. */
  get(name: string): TaskDefinition | undefined {
    return this.#tasks.get(name);
  }

  /** Whether a task called `name` exists. */
  has(name: string): boolean {
    return this.#tasks.has(name);
  }

  /** Task names, in registration order. */
  names(): string[] {
    return [...this.#tasks.keys()];
  }

  /** Task definitions, in registration order. */
  list(): TaskDefinition[] {
    return [...this.#tasks.values()];
  }

  /** Public descriptions of the tasks, with their argument lists as JSON Schema (computed once). */
  describe(): readonly TaskDescription[] {
    this.#descriptions ??= this.list().map((task) => ({
      name: task.name,
      description: task.description,
      cpuBound: task.cpuBound,
      args: z.toJSONSchema(task.args, { unrepresentable: 'any' }),
    }));
    return this.#descriptions;
  }

  /**
   * Validates a positional argument list against the task's schema. On success
   * `args` is the parsed list to pass to `run`. An unknown task name is reported as
   * an issue with an empty path.
   */
  parseArgs(name: string, args: unknown[]): ParseArgsResult {
    const task = this.#tasks.get(name);
    if (task === undefined) return { ok: false, issues: [{ path: [], message: `unknown task "${name}"` }] };
    const parsed = task.args.safeParse(args);
    if (parsed.success) return { ok: true, args: parsed.data };
    return { ok: false, issues: flattenIssues(parsed.error.issues) };
  }
}

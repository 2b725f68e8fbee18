/**
 * The file side of map-reduce steps: reading (or locating) the split a map task
 * works on, and writing the pieces of a map-reduce's `output` file and assembling them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  fileInfo,
  isFileInputProblem,
  outputUploadId,
  type FileAccess,
  type FileSplitRef,
  type FileStore,
  type LocalSplit,
  type PlanMapReduce,
  type ResolvedTaskOptions,
  type UploadedParts,
} from '@weft/shared';
import { TaskTimeoutError } from '../errors.js';
import { backoffDelayMs, type TaskOutcome, type TaskRun } from '../execution/task-runner.js';

/** A step that either gives a value or fails like a task. */
export type StepResult<T> = { readonly ok: true; readonly value: T } | (TaskOutcome & { ok: false });

/** Reads splits and writes output files for the engine. */
export class FileSteps {
  constructor(
    private readonly files: FileAccess,
    private readonly store: FileStore,
  ) {}

  /**
   * How a map task gets its chunk: a split of a shared-volume file is located and
   * read where the task runs, a split of another file is read here, and any other
   * chunk is passed as it is, before the task's own arguments.
   * @param signal aborted when the job stops or the worker closes: the read stops too
   * @param options the map task's: a read here counts against its time limit, and a
   *   URL that fails is tried again as the task would be
   */
  async mapInput(
    chunk: unknown,
    args: readonly unknown[],
    signal: AbortSignal,
    options: Pick<ResolvedTaskOptions, 'retries' | 'backoffMs' | 'timeoutMs'>,
  ): Promise<StepResult<Pick<TaskRun, 'args' | 'firstArgSplit'>>> {
    if (!isFileSplit(chunk)) return { ok: true, value: { args: [chunk, ...args] } };
    const local = await this.locate(chunk);
    if (local) return local.ok ? { ok: true, value: { args, firstArgSplit: local.value } } : local;
    const read = await this.read(chunk, signal, options);
    return read.ok ? { ok: true, value: { args: [read.value, ...args] } } : read;
  }

  /**
   * The lines of a file split. A file that cannot be read as the job needs it (see
   * `isFileInputProblem`) fails the job. A URL whose server fails, or that does not
   * send the split within the map task's time limit, is tried again as often as the
   * task would be, then fails the job as the task would (`TASK_FAILED`,
   * `TASK_TIMEOUT`). Other read errors (NATS, the volume) are thrown, so the item is
   * delivered again.
   */
  private async read(
    split: FileSplitRef,
    signal: AbortSignal,
    { retries, backoffMs, timeoutMs }: Pick<ResolvedTaskOptions, 'retries' | 'backoffMs' | 'timeoutMs'>,
  ): Promise<StepResult<unknown>> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      // A server may send a split slowly enough never to fall silent: the read stops
      // with the job, and within the task's time limit when it has one.
      const limit = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
      try {
        return { ok: true, value: await this.files.readSplit(split, limit ? AbortSignal.any([signal, limit]) : signal) };
      } catch (err) {
        signal.throwIfAborted();
        const durationMs = performance.now() - started;
        if (isFileInputProblem(err)) return { ok: false, code: err.code, message: err.message, attempts: attempt, durationMs };
        const failed = readFailure(split, err, limit?.aborted === true ? timeoutMs : undefined);
        if (attempt > retries) return { ok: false, ...failed, attempts: attempt, durationMs };
      }
      await sleep(backoffDelayMs(backoffMs, attempt), undefined, { signal }).catch(() => undefined);
      signal.throwIfAborted();
    }
  }

  /**
   * Where a split of a shared-volume file is (`undefined` for other sources). A file
   * that is missing (or outside the volume) fails the job; other errors, such as a
   * volume not mounted yet, are thrown, so the item is delivered again.
   */
  private async locate(split: FileSplitRef): Promise<StepResult<LocalSplit> | undefined> {
    try {
      const value = await this.files.locate(split);
      return value && { ok: true, value };
    } catch (err) {
      if (!isFileInputProblem(err)) throw err;
      return { ok: false, code: err.code, message: err.message, attempts: 1, durationMs: 0 };
    }
  }

  /** Writes a map value of a map-reduce with an `output` file as parts of the output's upload. */
  async writeOutputPiece(jobId: string, mr: PlanMapReduce, outcome: TaskOutcome & { ok: true }): Promise<TaskOutcome> {
    const { value } = outcome;
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
      const message = `the map task of a map-reduce with an output file must return text, not ${value === null ? 'null' : typeof value}`;
      return { ok: false, code: 'INVALID_OUTPUT', message, attempts: outcome.attempts, durationMs: outcome.durationMs };
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const written = await this.store.appendParts(outputUploadId(jobId, mr.id), bytes);
    return { ...outcome, value: written };
  }

  /**
   * A reduce step of a map-reduce with an `output` file: joins the pieces' parts in
   * order; the last step makes them the output file, whose description is the value.
   */
  async assembleOutput(jobId: string, mr: PlanMapReduce, name: string, pieces: UploadedParts[], final: boolean): Promise<TaskOutcome> {
    const started = performance.now();
    const joined: UploadedParts = { parts: [], cut: [] };
    for (const piece of pieces) {
      joined.cut.push(...piece.cut.map((i) => i + joined.parts.length));
      joined.parts.push(...piece.parts);
    }
    const value = final
      ? fileInfo(await this.store.commit(name, outputUploadId(jobId, mr.id), joined, 'text/plain; charset=utf-8'))
      : joined;
    return { ok: true, value, attempts: 1, durationMs: performance.now() - started };
  }
}

/**
 * How a failed read of a split fails its map task: at the task's time limit
 * (`timeoutMs`, when it was reached), or as the task when its URL failed.
 * @throws err when neither: NATS or the volume failed, and the item is delivered again
 */
function readFailure(split: FileSplitRef, err: unknown, timeoutMs: number | undefined): { code: string; message: string } {
  if (timeoutMs !== undefined) {
    const { code, message } = new TaskTimeoutError(timeoutMs);
    return { code, message: `${message} while reading its split` };
  }
  if (split.source.kind !== 'url') throw err;
  return { code: 'TASK_FAILED', message: `reading its split of ${split.source.url} failed: ${err instanceof Error ? err.message : String(err)}` };
}

function isFileSplit(chunk: unknown): chunk is FileSplitRef {
  return typeof chunk === 'object' && chunk !== null && 'source' in chunk;
}

import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  decodeWireBytes,
  invalidArgsError,
  isFileInputProblem,
  isPermanentTaskError,
  readLocalSplit,
  WireBytes,
  type FileAccess,
  type LocalSplit,
  type Logger,
  type ResolvedTaskOptions,
  type TaskCatalogue,
} from '@weft/shared';
import { PermanentFailureError, TaskAttemptError, TaskTimeoutError } from '../errors.js';
import type { CpuPool } from './cpu-pool.js';
import type { Limiter } from './limiter.js';

/**
 * A work item's claim on its worker's threads, held from the moment the item is
 * pulled: a worker pulls only while its claims leave room (see `ThreadClaims`). An item
 * that runs a light task needs no thread and releases its claim then, as does one
 * waiting to retry a task, or whose task has ended (what is left, storing the
 * result, needs no thread).
 */
export interface ThreadClaim {
  /** Gives the claim up; idempotent. */
  release(): void;
}

/** One task to run, with its retry policy. */
export interface TaskRun {
  readonly task: string;
  readonly args: readonly unknown[];
  readonly options: ResolvedTaskOptions;
  readonly cpuBound: boolean;
  /** Whether the run produces its node's final value (see `TaskContext.final`). */
  readonly final: boolean;
  /** The first argument as a list of values in wire bytes (put before `args`); decoded where the task runs. */
  readonly firstArgWire?: readonly Uint8Array[];
  /** The first argument as one value in wire bytes (put before `args`); decoded where the task runs. */
  readonly firstArgEncoded?: Uint8Array;
  /** The first argument as a split of a file on the shared volume (put before `args`); read where the task runs. */
  readonly firstArgSplit?: LocalSplit;
  /**
   * Whether a large value may come back as {@link WireBytes} (encoded on the thread
   * that produced it), for callers that only store it. @default false
   */
  readonly wire?: boolean;
  /** The claim of the work item the run belongs to, released when the task turns out to be light, waits to retry, or ends. */
  readonly claim?: ThreadClaim;
  /**
   * Aborted when the run must end without an outcome: with a `JobStoppedError` when
   * its job ended first (see `JobStops`), or as the worker shuts down. It must be
   * aborted when the worker's shutdown signal is. @default the worker's shutdown signal
   */
  readonly signal?: AbortSignal;
}

/**
 * How a task run ended after all its attempts. `durationMs` runs from the moment its
 * first attempt started (on a thread, or on the event loop) to the end of the last,
 * retry delays included and time spent waiting for a thread not.
 */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown; readonly attempts: number; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly attempts: number;
      readonly durationMs: number;
    };

/** Longest single backoff between attempts, in milliseconds. */
const MAX_BACKOFF_MS = 10 * 60 * 1000;

/** The delay after failed attempt `attempt` (from 1) of a task retried with `backoffMs`, in milliseconds. */
export function backoffDelayMs(backoffMs: number, attempt: number): number {
  return Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}

/**
 * Runs catalogue tasks: validates arguments, picks the thread pool (CPU-bound) or
 * the event loop (light tasks, bounded by a limiter), applies timeouts, and retries
 * retryable failures with exponential backoff.
 */
export class TaskRunner {
  constructor(
    private readonly catalogue: TaskCatalogue,
    private readonly pool: CpuPool,
    private readonly io: Limiter,
    /** File access for light tasks. */
    private readonly files: FileAccess,
    private readonly log: Logger,
    /** Aborted when the worker shuts down for good. */
    private readonly shutdown: AbortSignal,
  ) {
    // Every running attempt listens for shutdown; there may be thousands at once.
    setMaxListeners(0, shutdown);
  }

  /**
   * Runs a task with its retries.
   * @throws WorkerClosingError when the worker shuts down before the task ends: the
   *   task then has no outcome, and its work item goes back to the queue
   * @throws JobStoppedError (the reason `run.signal` gives) when the task's job ended
   *   first: the task then has no outcome either, and nothing is left to do for it
   */
  async run(run: TaskRun): Promise<TaskOutcome> {
    try {
      const outcome = await this.runAttempts(run);
      // A task that finished as its job ended has no use for its outcome.
      if (run.signal?.aborted && !this.shutdown.aborted) throw run.signal.reason as Error;
      return outcome;
    } finally {
      run.claim?.release();
    }
  }

  private async runAttempts(run: TaskRun): Promise<TaskOutcome> {
    let firstStart: number | undefined;
    const onStart = () => (firstStart ??= performance.now());
    const elapsed = () => (firstStart === undefined ? 0 : performance.now() - firstStart);
    if (!run.cpuBound) run.claim?.release();
    const maxAttempts = run.options.retries + 1;
    const stop = run.signal ?? this.shutdown;
    for (let attempt = 1; ; attempt++) {
      try {
        stop.throwIfAborted();
        const value = await this.attempt(run, await this.argsOf(run), stop, onStart);
        return { ok: true, value, attempts: attempt, durationMs: elapsed() };
      } catch (err) {
        // Stopped by the worker shutting down: no verdict on the task, whose work item
        // goes back to the queue for another worker.
        if (this.shutdown.aborted) throw this.shutdown.reason as Error;
        // Stopped because its job ended: no verdict either, and nothing left to do.
        if (stop.aborted) throw stop.reason as Error;
        const permanent = err instanceof PermanentFailureError;
        const code = err instanceof PermanentFailureError || err instanceof TaskTimeoutError ? err.code : 'TASK_FAILED';
        const message = err instanceof Error ? err.message : String(err);
        if (permanent || attempt >= maxAttempts) {
          return { ok: false, code, message, attempts: attempt, durationMs: elapsed() };
        }
        const delayMs = backoffDelayMs(run.options.backoffMs, attempt);
        // The wait needs no thread: while it lasts, the worker may take other work.
        run.claim?.release();
        this.log.debug({ task: run.task, attempt, delayMs, err: message }, 'task attempt failed; retrying');
        await sleep(delayMs, undefined, { signal: stop }).catch(() => undefined);
      }
    }
  }

  /**
   * The arguments of an attempt. A light task's are validated here, with a first
   * argument given in another form decoded or read first; a CPU-bound task gets its
   * own as they are, on its thread.
   * @throws PermanentFailureError for invalid arguments, or a split whose file cannot be
   *   read as the job needs it (see `isFileInputProblem`; other read errors may pass
   *   with a retry)
   */
  private async argsOf(run: TaskRun): Promise<unknown[]> {
    if (run.cpuBound) return [...run.args];
    let raw: unknown[];
    try {
      raw = await mainThreadArgs(run);
    } catch (err) {
      if (isFileInputProblem(err)) throw new PermanentFailureError(err.code, err.message, { cause: err });
      throw err;
    }
    const parsed = this.catalogue.parseArgs(run.task, raw);
    if (!parsed.ok) {
      const { code, message } = invalidArgsError(run.task, parsed.issues);
      throw new PermanentFailureError(code, message);
    }
    return parsed.args;
  }

  /** One attempt, aborted with `stop` (the run's signal, or the worker's shutdown). */
  private async attempt(run: TaskRun, args: unknown[], stop: AbortSignal, onStart: () => void): Promise<unknown> {
    const timeoutMs = run.options.timeoutMs;
    if (timeoutMs === undefined) {
      // No time limit: the job stopping or the worker shutting down is the only reason to abort.
      return run.cpuBound ? this.onThread(run, args, stop, onStart) : this.onLoop(run, args, stop, onStart);
    }
    const controller = new AbortController();
    const onStop = () => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    // The clock starts with the attempt: waiting for a thread (or an I/O slot) is not
    // part of the time limit.
    let timer: NodeJS.Timeout | undefined;
    const started = () => {
      onStart();
      timer ??= setTimeout(() => controller.abort(new TaskTimeoutError(timeoutMs)), timeoutMs);
    };
    try {
      const work = run.cpuBound
        ? this.onThread(run, args, controller.signal, started)
        : this.onLoop(run, args, controller.signal, started);
      // A light task that ignores its signal must still not outlive its timeout.
      return await Promise.race([work, aborted(controller.signal)]);
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  private async onThread(
    { task, final, firstArgWire, firstArgEncoded, firstArgSplit, wire }: TaskRun,
    args: unknown[],
    signal: AbortSignal,
    onStart: () => void,
  ): Promise<unknown> {
    const request = {
      task,
      args,
      final,
      encodeResult: wire === true,
      ...(firstArgWire ? { firstArgWire } : {}),
      ...(firstArgEncoded ? { firstArgEncoded } : {}),
      ...(firstArgSplit ? { firstArgSplit } : {}),
    };
    const response = await this.pool.run(request, signal, onStart);
    if (response.ok) return 'wire' in response ? new WireBytes(response.wire) : response.value;
    if (response.permanent) throw new PermanentFailureError(response.code ?? 'TASK_PERMANENT_FAILURE', response.message);
    throw new TaskAttemptError(response.message);
  }

  private async onLoop({ task, final }: TaskRun, args: unknown[], signal: AbortSignal, onStart: () => void): Promise<unknown> {
    const def = this.catalogue.get(task);
    if (!def) throw new PermanentFailureError('UNKNOWN_TASK', `unknown task "${task}"`);
    return this.io.run(async () => {
      onStart();
      try {
        return await def.run(args, { signal, final, files: this.files });
      } catch (err) {
        if (isPermanentTaskError(err) || isFileInputProblem(err)) throw new PermanentFailureError(err.code, err.message, { cause: err });
        throw err;
      }
    });
  }
}

/** The full argument list of a run, with a first argument given in another form decoded or read. */
async function mainThreadArgs(run: TaskRun): Promise<unknown[]> {
  if (run.firstArgWire) return [run.firstArgWire.map(decodeWireBytes), ...run.args];
  if (run.firstArgEncoded) return [decodeWireBytes(run.firstArgEncoded), ...run.args];
  if (run.firstArgSplit) return [await readLocalSplit(run.firstArgSplit), ...run.args];
  return [...run.args];
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/**
 * The worker's error registry. A task failure is either retryable (the engine tries
 * again with backoff while attempts remain) or permanent (the job fails at once).
 */
import { WeftError } from '@weft/shared';

/** A task attempt failed; retrying may help. */
export class TaskAttemptError extends WeftError {
  readonly code = 'TASK_FAILED';
}

/** A task attempt ran longer than its `timeoutMs`. */
export class TaskTimeoutError extends WeftError {
  readonly code = 'TASK_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`task timed out after ${timeoutMs} ms`);
  }
}

/** A task failed in a way retrying cannot fix (bad arguments, or the task said so). */
export class PermanentFailureError extends WeftError {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A work item kept being delivered without finishing: the workers running it died each time. */
export class PoisonWorkItemError extends WeftError {
  readonly code = 'WORKER_LOST';
  constructor(readonly deliveries: number) {
    super(`the task was delivered ${deliveries} times and never finished: the workers running it stopped, or it failed each time (see their logs)`);
  }
}

/** The worker is closing and hands the work back. */
export class WorkerClosingError extends WeftError {
  readonly code = 'WORKER_CLOSING';
}

/**
 * The job a task belongs to ended before the task did: it was cancelled, or another of
 * its tasks failed it. The task has no outcome and its work item is done.
 */
export class JobStoppedError extends WeftError {
  readonly code = 'JOB_STOPPED';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job "${jobId}" ended (${status}) while its task ran`);
  }
}

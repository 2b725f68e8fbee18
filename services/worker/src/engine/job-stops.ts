import { setMaxListeners } from 'node:events';
import { setBounded } from '@weft/shared';
import { JobStoppedError } from '../errors.js';

/** How many stopped jobs are remembered, so that their work still in the queue is dropped at once. */
const REMEMBERED_STOPS = 10_000;

/** A work item's hold on its job's stop signal. */
export interface JobStopHold {
  /** Aborted (with a `JobStoppedError`) when the job is stopped, or (with the shutdown reason) when the worker shuts down. */
  readonly signal: AbortSignal;
  /** Lets go of the signal; idempotent. */
  release(): void;
}

/**
 * Stop signals of the jobs whose work items this worker is processing. A job is
 * stopped when it ends before its work does (cancelled, or failed by one of its
 * tasks): its running tasks are aborted through their signal, and its items that come
 * later get a signal aborted from the start.
 */
export class JobStops {
  private readonly active = new Map<
    string,
    { readonly controller: AbortController; holds: number; stoppedWhileHeld: boolean; readonly since: number }
  >();
  /** The status each stopped job ended with (not its error: 10,000 stack traces would be megabytes). */
  private readonly stopped = new Map<string, string>();

  /**
   * @param onStoppedIdle called when the last work item of a job that was stopped
   *   while items of it were being processed here lets go: what they stored after
   *   the job ended can be removed now (once per job and worker, not for every item
   *   of the job dropped later)
   */
  constructor(
    private readonly shutdown: AbortSignal,
    private readonly onStoppedIdle: (jobId: string) => void = () => undefined,
  ) {
    shutdown.addEventListener(
      'abort',
      () => {
        for (const { controller } of this.active.values()) controller.abort(shutdown.reason);
      },
      { once: true },
    );
  }

  /** Takes the stop signal of job `jobId` for one work item; release it when the item is done. */
  hold(jobId: string): JobStopHold {
    let entry = this.active.get(jobId);
    if (!entry) {
      entry = { controller: new AbortController(), holds: 0, stoppedWhileHeld: false, since: performance.now() };
      // Every task of the job running here listens; there may be thousands.
      setMaxListeners(0, entry.controller.signal);
      const stopped = this.stopped.get(jobId);
      if (this.shutdown.aborted) entry.controller.abort(this.shutdown.reason);
      else if (stopped !== undefined) entry.controller.abort(new JobStoppedError(jobId, stopped));
      this.active.set(jobId, entry);
    }
    const held = entry;
    held.holds += 1;
    let released = false;
    return {
      signal: held.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        held.holds -= 1;
        if (held.holds === 0 && this.active.get(jobId) === held) {
          this.active.delete(jobId);
          if (held.stoppedWhileHeld && !this.shutdown.aborted) this.onStoppedIdle(jobId);
        }
      },
    };
  }

  /** Job `jobId` ended early with `status`: aborts its work here. */
  stop(jobId: string, status: string): void {
    if (this.stopped.has(jobId)) return;
    setBounded(this.stopped, jobId, status, REMEMBERED_STOPS);
    const entry = this.active.get(jobId);
    if (!entry) return;
    entry.stoppedWhileHeld = true;
    entry.controller.abort(new JobStoppedError(jobId, status));
  }

  /**
   * The jobs not known to be stopped whose work items have been processed here without
   * a break since `at` or before (a `performance.now()` time).
   */
  heldSince(at: number): string[] {
    const jobs: string[] = [];
    for (const [jobId, entry] of this.active) if (entry.since <= at && !this.stopped.has(jobId)) jobs.push(jobId);
    return jobs;
  }

  /** Whether work items of job `jobId` are being processed here now. */
  isActive(jobId: string): boolean {
    return this.active.has(jobId);
  }

  /** Whether job `jobId` is known to have been stopped. */
  isStopped(jobId: string): boolean {
    return this.stopped.has(jobId);
  }
}

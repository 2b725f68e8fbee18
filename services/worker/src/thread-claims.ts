import type { ThreadClaim } from './execution/task-runner.js';

/**
 * Work items a worker holds per pool thread while they may need a thread: one
 * running and one ready to start the moment the thread frees up. More would wait
 * here while other workers, or ones just scaled up, sit idle. (Each queue's puller
 * asks for this room on its own, so a worker of several queues may hold up to this
 * many per queue: a shared budget would let an idle queue's waiting request starve
 * the others.)
 */
const CLAIMS_PER_THREAD = 2;

/**
 * The claims a worker's work items hold on its pool threads (see {@link ThreadClaim}),
 * and the room they leave for pulling more.
 */
export class ThreadClaims {
  private held = 0;
  /** Whether a call of `onRelease` is queued. */
  private releasePending = false;

  constructor(
    private readonly threads: number,
    /**
     * Called once the synchronous work in which claims were given up is done (once
     * for all of them). A claim given up just before its item's acknowledgement then
     * lets that acknowledgement carry the request for more work (see
     * `WorkMessage.ack`): a request sent on its own ahead of it could be served
     * first, and the worker would hold one item more than its room for a moment.
     */
    private readonly onRelease: () => void,
  ) {}

  /**
   * How many of `free` slots to fill now. Light work may fill them all, but work that
   * may need a thread stops at {@link CLAIMS_PER_THREAD} per thread. Whether a work
   * item needs one is known only once it runs, so it counts until then (and, when it
   * does need one, until its task ends).
   */
  room(free: number): number {
    return Math.min(free, CLAIMS_PER_THREAD * this.threads - this.held);
  }

  /** A claim for a work item just pulled. */
  claim(): ThreadClaim {
    this.held += 1;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.held -= 1;
        this.releaseSoon();
      },
    };
  }

  private releaseSoon(): void {
    if (this.releasePending) return;
    this.releasePending = true;
    queueMicrotask(() => {
      this.releasePending = false;
      this.onRelease();
    });
  }
}

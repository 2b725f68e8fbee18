import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { decodeWireBytes, JobEndEventSchema, parseMessage, type Logger, type ResourceNames } from '@weft/shared';
import type { JobEngine } from './engine/job-engine.js';
import type { JobStops } from './engine/job-stops.js';

/**
 * How a worker learns that a job with work here ended early (cancelled, or failed by
 * one of its tasks), so that the work stops: from the stop notices on
 * `<p>.job-stops.*`, and, for work held a while, from the job's record. A notice is
 * plain NATS: it may be lost in a reconnect, or never sent when the process that
 * ended the job died between its record and its notice.
 */
export class JobStopWatch {
  private rechecking = false;

  constructor(
    private readonly stops: JobStops,
    private readonly engine: Pick<JobEngine, 'jobEnded' | 'earlyEnd'>,
    private readonly log: Logger,
  ) {}

  /** Listens for stop notices until the connection closes. */
  listen(nc: NatsConnection, names: Pick<ResourceNames, 'jobStopSubjects'>): void {
    nc.subscribe(names.jobStopSubjects, {
      callback: (err, msg) => {
        if (!err) this.onNotice(msg);
      },
    });
  }

  /**
   * Reads the records of the jobs whose work has been held here since `since` (a
   * `performance.now()` time) or longer, and stops those that ended early. A check
   * still under way when the next is asked for makes that one a no-op.
   */
  async recheck(since: number): Promise<void> {
    if (this.rechecking) return;
    this.rechecking = true;
    try {
      await Promise.all(
        this.stops.heldSince(since).map(async (jobId) => {
          try {
            const status = await this.engine.earlyEnd(jobId);
            if (status === undefined) return;
            this.stop(jobId, status);
            this.log.info({ jobId, status }, 'job stopped: found ended on its record');
          } catch (err) {
            this.log.debug({ err, jobId }, 'could not read the record of a job with work here');
          }
        }),
      );
    } finally {
      this.rechecking = false;
    }
  }

  private onNotice(msg: Msg): void {
    let notice: { jobId: string; status: string };
    try {
      notice = parseMessage(JobEndEventSchema, decodeWireBytes(msg.data), 'job end event');
    } catch (err) {
      this.log.warn({ err, subject: msg.subject }, 'ignoring an undecodable job stop');
      return;
    }
    this.stop(notice.jobId, notice.status);
    this.log.debug({ jobId: notice.jobId, status: notice.status }, 'job stopped');
  }

  /** Job `jobId` ended early with `status`: its work here stops. */
  private stop(jobId: string, status: string): void {
    this.stops.stop(jobId, status);
    this.engine.jobEnded(jobId);
  }
}

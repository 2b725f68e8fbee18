/**
 * Waiting for jobs to finish, without polling: a job's end is seen either as its
 * terminal record write together with JetStream's acknowledgement of it, or as the
 * `job` event on its end subject.
 */
import type { Msg, Subscription } from '@nats-io/transport-node';
import { decodeJobRecord, decodeWireBytes, isJobId, JobEndEventSchema, parseMessage, parseWriteAck, type Infrastructure, type JobRecord, type Logger } from '@weft/shared';
import { isTerminal, readJobRecord } from './job-records.js';

/**
 * A subscription to one job's end, opened before the job may change.
 *
 * Workers write a terminal record with a reply subject under the job, so JetStream's
 * acknowledgement of the write comes here as well as to the worker: the write itself
 * (seen on the record's KV subject, carrying that reply subject) counts once its
 * acknowledgement says it is stored. NATS delivers a write there before JetStream has
 * stored it, and even when JetStream rejects it, so a write is never trusted alone.
 *
 * The job's end subject is listened to as well: a worker publishes the `job` event
 * there after storing the terminal record, which is how an end written any other way
 * is seen.
 */
export class JobWatch {
  private terminal: JobRecord | undefined;
  private ended = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly subscriptions: Subscription[];
  /** Record writes seen but not yet acknowledged, by reply subject. */
  private readonly writes = new Map<string, Uint8Array>();
  /** Acknowledgements of writes not seen yet (they normally come after the write). */
  private readonly stored = new Set<string>();
  private readonly ackPrefix: string;

  /** @internal use {@link JobWaiter.watch} */
  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    readonly id: string,
    private readonly log: Logger,
    /** Takes the subscriptions of a closed watch, to end them. */
    private readonly retire: (subscriptions: readonly Subscription[]) => void,
  ) {
    const { nc, names } = infra;
    const acks = names.recordAcksOf(id);
    this.ackPrefix = acks.slice(0, -1);
    const listen = (subject: string, handle: (msg: Msg) => void) =>
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err && !this.closed) handle(msg);
        },
      });
    this.subscriptions = [
      listen(names.jobEndSubject(id), (msg) => this.onEndEvent(msg)),
      listen(names.jobRecordSubject(id), (msg) => this.onRecordWrite(msg)),
      listen(acks, (msg) => this.onWriteAck(msg)),
    ];
  }

  private onEndEvent(msg: Msg): void {
    // Usually the acknowledged record write came first: nothing left to learn.
    if (this.ended) return;
    try {
      const event = parseMessage(JobEndEventSchema, decodeWireBytes(msg.data), 'job end event');
      if (event.record && isTerminal(event.record)) this.terminal ??= event.record;
      this.end();
    } catch (error) {
      this.log.warn({ err: error, jobId: this.id }, 'ignoring an undecodable job event');
    }
  }

  private onRecordWrite(msg: Msg): void {
    const { reply } = msg;
    if (this.ended || reply === undefined || !reply.startsWith(this.ackPrefix)) return;
    if (this.stored.delete(reply)) this.accept(msg.data);
    else this.writes.set(reply, msg.data);
  }

  private onWriteAck(msg: Msg): void {
    const data = this.writes.get(msg.subject);
    this.writes.delete(msg.subject);
    if (!parseWriteAck(msg).ok) return;
    if (data) this.accept(data);
    else this.stored.add(msg.subject);
  }

  /** A record write is stored: the job has ended if the record is terminal. */
  private accept(data: Uint8Array): void {
    try {
      const record = decodeJobRecord(data);
      if (!isTerminal(record)) return;
      this.terminal ??= record;
      this.end();
    } catch (error) {
      this.log.warn({ err: error, jobId: this.id }, 'ignoring an undecodable job record');
    }
  }

  private end(): void {
    this.ended = true;
    this.wake?.();
  }

  /**
   * Resolves with the stored terminal record as soon as the job ends, or `undefined`
   * once `timeoutMs` have passed or `signal` aborts.
   */
  async terminalWithin(timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    if (!this.ended && timeoutMs > 0 && !signal?.aborted) await this.nextEnd(timeoutMs, signal);
    if (!this.ended) return undefined;
    // An end event from an older worker may lack the record: read it back.
    this.terminal ??= await this.read();
    return this.terminal && isTerminal(this.terminal) ? this.terminal : undefined;
  }

  private async nextEnd(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => this.wake?.();
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      this.wake = undefined;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The record as stored now. */
  read(): Promise<JobRecord | undefined> {
    return readJobRecord(this.infra.jobs, this.id);
  }

  /** Stops watching; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retire(this.subscriptions);
  }
}

/** How long the subscriptions of a closed watch may linger before they are ended, in milliseconds. */
const RETIRE_AFTER_MS = 100;

/**
 * Waits for job records to become terminal.
 *
 * The subscriptions of closed watches are ended with the next watch's, in one write
 * to the server, or after {@link RETIRE_AFTER_MS} when no watch comes: under a steady
 * stream of waiting requests a request costs the server one write less.
 */
export class JobWaiter {
  private retired: Subscription[] = [];
  private retireTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jobs' | 'names'>,
    private readonly log: Logger,
  ) {}

  /**
   * Starts watching job `id`'s record. Subscribe before doing anything that may
   * finish the job, so that no update can be missed. `id` must be a job id.
   */
  watch(id: string): JobWatch {
    this.endRetired();
    return new JobWatch(this.infra, id, this.log, (subscriptions) => this.retire(subscriptions));
  }

  private retire(subscriptions: readonly Subscription[]): void {
    this.retired.push(...subscriptions);
    if (this.retireTimer) return;
    this.retireTimer = setTimeout(() => this.endRetired(), RETIRE_AFTER_MS);
    this.retireTimer.unref();
  }

  private endRetired(): void {
    clearTimeout(this.retireTimer);
    this.retireTimer = undefined;
    const retired = this.retired;
    this.retired = [];
    for (const subscription of retired) subscription.unsubscribe();
  }

  /**
   * Waits up to `timeoutMs` for job `id` to finish, or until `signal` aborts.
   * @returns the record as it is when the job finished or the wait ended; `undefined`
   *   when the job does not exist
   */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    // The id ends up in a subject: never subscribe with anything but a well-formed one.
    if (!isJobId(id)) return undefined;
    const watch = this.watch(id);
    try {
      const current = await watch.read();
      if (current === undefined || isTerminal(current)) return current;
      // Not finished in time: the record as it is now.
      return (await watch.terminalWithin(timeoutMs, signal)) ?? (await watch.read()) ?? current;
    } finally {
      watch.close();
    }
  }
}

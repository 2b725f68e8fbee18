/**
 * A job's events as Server-Sent Events: everything published so far, then live, until
 * the job ends.
 *
 * - `event: task`: one finished task (a TaskCompletion plus `jobId`), one SSE event for
 *   each entry of each `tasks` event on the stream;
 * - `event: job`: the final status (and error), after which the stream ends.
 *
 * The last SSE event made from a stream message carries the message's sequence as its
 * `id`, so a client that reconnects with `Last-Event-ID` resumes after it. The stream
 * resumes the same way inside the API when its consumer is lost (nats-server restarted).
 *
 * If a worker dies between writing the terminal record and publishing the `job` event,
 * the event never comes: once the record has been terminal for a grace period and the
 * stream's last message for the job is not a `job` event, the `job` event is made up
 * from the record (after everything on the stream has been sent), preceded by the
 * completions the record keeps (those of a job of one task, which the lost event
 * was to carry).
 */
import type { ServerResponse } from 'node:http';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import {
  decodeJobRecord,
  decodeWireBytes,
  JobEventSchema,
  parseMessage,
  stringifyJson,
  type Infrastructure,
  type JobEvent,
  type JobRecord,
  type Logger,
  type TaskCompletion,
} from '@weft/shared';
import type { JobEndEventData, TaskEventData } from '../schemas.js';
import { isTerminal, readJobRecord } from './job-records.js';

/** Response headers of an event stream. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
});

/** Timing of event streams. */
export interface JobEventStreamOptions {
  /** Interval of comment heartbeats that keep proxies from closing idle streams, in milliseconds. */
  readonly heartbeatMs: number;
  /** How long after a job finished its `job` event may still be on its way, in milliseconds. */
  readonly endGraceMs: number;
}

type JobEnd = Extract<JobEvent, { type: 'job' }>;

function endData(event: JobEnd): JobEndEventData {
  return { jobId: event.jobId, status: event.status, at: event.at, ...(event.error ? { error: event.error } : {}) };
}

/** A `job` event made up from the record, and the completions the record keeps (see `JobRecord.tasks`). */
interface MadeUpEnd {
  readonly data: JobEndEventData;
  readonly tasks: readonly TaskCompletion[];
}

function endFromRecord(record: JobRecord): JobEndEventData {
  return {
    jobId: record.id,
    status: record.status,
    at: record.finishedAt ?? new Date().toISOString(),
    ...(record.error ? { error: record.error } : {}),
  };
}

/**
 * Stops `messages` once its ordered consumer has been created again (after nats-server
 * restarted, or a gap in deliveries), so that the caller starts a new one after the
 * last message it handled. The recreated consumer cannot be trusted to deliver:
 * @nats-io/jetstream 3.4 keeps counting the lost pull request as pending, asks for
 * only what is left of its batch, and then waits for two missed heartbeats (about
 * 30 s) before asking again.
 */
async function stopOnRecreation(messages: ConsumerMessages): Promise<void> {
  try {
    for await (const status of messages.status()) {
      if (status.type === 'ordered_consumer_recreated') {
        messages.stop();
        return;
      }
    }
  } catch {
    // The notifications ended with the messages, which report their own failure.
  }
}

/** One client's stream of one job's events. Use once. */
export class JobEventStream {
  /** Stream sequence of the last message sent. */
  private lastSeq = 0;
  /** A made-up end, sent once the message with sequence `afterSeq` has been. */
  private pendingEnd: (MadeUpEnd & { afterSeq: number }) | undefined;
  private done = false;
  /** When the record was first seen terminal (its finishedAt when it has one), in epoch milliseconds. */
  private terminalSeenAt: number | undefined;
  private checking = false;
  private checkTimer: NodeJS.Timeout | undefined;
  private messages: ConsumerMessages | undefined;

  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'js' | 'jsm' | 'jobs' | 'names'>,
    private readonly jobId: string,
    private readonly out: ServerResponse,
    private readonly log: Logger,
    private readonly options: JobEventStreamOptions,
  ) {}

  /**
   * Writes the response until the job ends, the client disconnects or `signal` aborts
   * (e.g. at shutdown). Never throws: failures are logged and end the stream.
   * @param resumeAfter stream sequence the client has already seen (0: from the start)
   */
  async run(resumeAfter: number, signal: AbortSignal): Promise<void> {
    const { nc, js, names } = this.infra;
    this.lastSeq = resumeAfter;
    this.out.writeHead(200, EVENT_STREAM_HEADERS);
    this.out.write(`: events of job ${this.jobId}\n\n`);
    const stop = () => this.finish();
    this.out.once('close', stop);
    signal.addEventListener('abort', stop, { once: true });
    const heartbeat = setInterval(() => {
      this.write(': keep-alive\n\n');
      this.scheduleCheck(0);
    }, this.options.heartbeatMs);
    let subscription: Subscription | undefined;
    let consumer: Consumer | undefined;
    try {
      // A client gone before this point closed the response already: 'close' will not come again.
      if (signal.aborted || this.out.destroyed) return;
      // Terminal records are watched in case the job event never comes.
      subscription = nc.subscribe(names.jobRecordSubject(this.jobId), {
        callback: (err, msg) => {
          if (err || msg.data.length === 0) return;
          try {
            if (isTerminal(decodeJobRecord(msg.data))) this.scheduleCheck(this.options.endGraceMs);
          } catch {
            // An undecodable update: the periodic check reads the record itself.
          }
        },
      });
      while (!this.done) {
        consumer = await js.consumers.get(names.eventsStream, {
          // One subject, as a string: a list needs nats-server 2.10 or later.
          filter_subjects: names.eventSubject(this.jobId),
          ...(this.lastSeq > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        });
        if (this.done) return;
        const messages = await consumer.consume();
        this.messages = messages;
        if (this.done) return;
        void stopOnRecreation(messages);
        this.scheduleCheck(0);
        for await (const msg of messages) {
          if (this.done) break;
          this.handle(msg);
          if (this.out.writableNeedDrain) await this.drained();
        }
        await consumer.delete().catch(() => undefined);
        consumer = undefined;
      }
    } catch (err) {
      if (!this.done) this.log.warn({ err, jobId: this.jobId }, 'event stream failed');
    } finally {
      this.finish();
      // finish() may have come while the last consumer was being set up, before it
      // could stop it: left running, it would recreate its deleted consumer for good.
      this.messages?.stop();
      clearInterval(heartbeat);
      clearTimeout(this.checkTimer);
      signal.removeEventListener('abort', stop);
      this.out.off('close', stop);
      subscription?.unsubscribe();
      await consumer?.delete().catch(() => undefined);
    }
  }

  private handle(msg: JsMsg): void {
    let event: JobEvent;
    try {
      event = parseMessage(JobEventSchema, decodeWireBytes(msg.data), 'job event');
    } catch (err) {
      this.log.warn({ err, jobId: this.jobId, seq: msg.seq }, 'skipping an undecodable job event');
      this.lastSeq = msg.seq;
      return;
    }
    if (event.type === 'job') {
      // Tasks that finished the job may travel in its end event: they come first.
      for (const task of event.tasks ?? []) this.send('task', { jobId: event.jobId, ...task });
      this.lastSeq = msg.seq;
      this.finish(endData(event), msg.seq);
      return;
    }
    event.tasks.forEach((task, i) => {
      const data: TaskEventData = { jobId: event.jobId, ...task };
      this.send('task', data, i === event.tasks.length - 1 ? msg.seq : undefined);
    });
    this.lastSeq = msg.seq;
    if (this.pendingEnd !== undefined && msg.seq >= this.pendingEnd.afterSeq) this.finishMadeUp(this.pendingEnd);
  }

  /** Runs {@link check} after `delayMs`, unless a check is due sooner. */
  private scheduleCheck(delayMs: number): void {
    if (this.done) return;
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => {
      this.check().catch((err: unknown) => this.log.warn({ err, jobId: this.jobId }, 'job end check failed'));
    }, delayMs);
  }

  /** Ends the stream with a made-up `job` event when the record is terminal but the stream holds none. */
  private async check(): Promise<void> {
    if (this.done || this.checking) return;
    this.checking = true;
    try {
      const { jsm, jobs, names } = this.infra;
      const record = await readJobRecord(jobs, this.jobId);
      if (record === undefined || !isTerminal(record) || this.done) return;
      const last = await jsm.streams.getMessage(names.eventsStream, { last_by_subj: names.eventSubject(this.jobId) });
      const lastEvent = last === null ? undefined : this.decode(last.data);
      if (this.done) return;
      if (last !== null && lastEvent?.type === 'job') {
        // Either the consumer is about to deliver it, or the client resumed after it.
        if (last.seq <= this.lastSeq) this.finish(endData(lastEvent));
        return;
      }
      // A record without finishedAt counts as finished when first seen terminal.
      const finishedMs = Date.parse(record.finishedAt ?? '');
      this.terminalSeenAt ??= Number.isFinite(finishedMs) ? finishedMs : Date.now();
      const wait = this.terminalSeenAt + this.options.endGraceMs - Date.now();
      if (wait > 0) {
        this.scheduleCheck(wait);
        return;
      }
      this.log.info({ jobId: this.jobId, status: record.status }, 'job event missing; sending one made from the record');
      const end: MadeUpEnd = { data: endFromRecord(record), tasks: record.tasks ?? [] };
      const afterSeq = last?.seq ?? 0;
      if (afterSeq <= this.lastSeq) this.finishMadeUp(end);
      else this.pendingEnd = { ...end, afterSeq };
    } finally {
      this.checking = false;
    }
  }

  private decode(data: Uint8Array): JobEvent | undefined {
    try {
      return parseMessage(JobEventSchema, decodeWireBytes(data), 'job event');
    } catch {
      return undefined;
    }
  }

  /** Sends the completions a made-up end carries, then the end. */
  private finishMadeUp({ data, tasks }: MadeUpEnd): void {
    for (const task of tasks) this.send('task', { jobId: this.jobId, ...task });
    this.finish(data);
  }

  /** Sends the final event (if any) and ends the response and the consumer. Idempotent. */
  private finish(end?: JobEndEventData, seq?: number): void {
    if (this.done) return;
    if (end !== undefined) this.send('job', end, seq);
    this.done = true;
    clearTimeout(this.checkTimer);
    if (!this.out.writableEnded) this.out.end();
    this.messages?.stop();
  }

  private send(event: 'task' | 'job', data: TaskEventData | JobEndEventData, seq?: number): void {
    const id = seq === undefined ? '' : `id: ${seq}\n`;
    this.write(`event: ${event}\n${id}data: ${stringifyJson(data)}\n\n`);
  }

  private write(chunk: string): void {
    if (!this.done && !this.out.writableEnded && !this.out.destroyed) this.out.write(chunk);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
    });
  }
}

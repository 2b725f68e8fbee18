import { createInbox, nanos, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from '@weft/shared';
import { WorkMessage, type NextRequest } from './work-message.js';

/** Options of a {@link QueuePuller}. */
export interface QueuePullerOptions {
  /** How long one pull request waits for messages, in milliseconds. @default 5000 */
  readonly pullExpiresMs?: number;
}

/** Beyond a pull request's expiry, how long silence may last before it is taken for lost, in milliseconds. */
const LOST_REQUEST_GRACE_MS = 2000;

const encoder = new TextEncoder();

/**
 * Pulls work items from one queue's durable consumer, never more than there are
 * free slots, and never more than the worker has room for (see `room`): work the
 * worker cannot start soon stays in the stream, where any worker can take it.
 *
 * Messages arrive on one inbox subscription for the puller's whole life. Pull
 * requests ask for the room there is beyond what was asked for already, and a
 * message acknowledged while there is room asks for the next in the same protocol
 * message: a work item costs no subscription of its own and no extra round trip.
 * Requests expire, so a request lost with a connection is noticed: the server
 * answers every expired one (`408`, with how many messages it still owed), and
 * silence beyond that means the requests are gone.
 */
export class QueuePuller {
  private free: number;
  /** Messages asked for and neither delivered nor released by the server. */
  private requested = 0;
  /** When the puller last heard from the server, or started waiting for it. */
  private heardAt = 0;
  private readonly inbox = createInbox();
  private readonly requestSubject: string;
  private readonly expiresMs: number;
  private sub: Subscription | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    stream: string,
    consumer: string,
    slots: number,
    private readonly onMessage: (msg: WorkMessage) => Promise<void>,
    private readonly log: Logger,
    /**
     * How many of the `free` slots the worker wants filled now; asked before every
     * pull, and again after {@link poke}. @default all of them
     */
    private readonly room: (free: number) => number = (free) => free,
    options: QueuePullerOptions = {},
  ) {
    this.free = slots;
    this.requestSubject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.expiresMs = options.pullExpiresMs ?? 5000;
  }

  /** Starts pulling in the background. */
  start(): void {
    if (this.sub || this.stopped) return;
    this.sub = this.nc.subscribe(this.inbox, { callback: (err, msg) => (err ? this.failed(err) : this.receive(msg)) });
    this.watchdog = setInterval(() => this.check(), this.expiresMs);
    this.watchdog.unref();
    void this.watchConnection();
    this.pull();
  }

  /**
   * Asks `room` again: the worker may want more work than when the puller last asked.
   * While a request still waits at the server, the next acknowledgement asks instead:
   * the work item that freed the room is usually about to write its results, which
   * should not wait behind a pull request.
   */
  poke(): void {
    if (this.requested === 0) this.pull();
  }

  /**
   * Stops pulling new messages (requests still waiting at the server are dropped with
   * the subscription); messages being processed are not affected.
   */
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.sub?.unsubscribe();
    return Promise.resolve();
  }

  /** How many more messages to ask for, when `free` slots are free. */
  private wanted(free: number): number {
    if (this.stopped || !this.sub) return 0;
    return Math.min(free, this.room(free)) - this.requested;
  }

  private pull(): void {
    const batch = this.wanted(this.free);
    if (batch <= 0) return;
    this.asked(batch);
    const request = encoder.encode(JSON.stringify({ batch, expires: nanos(this.expiresMs) }));
    this.nc.publish(this.requestSubject, request, { reply: this.inbox });
  }

  /** The request to send with the acknowledgement of a message about to give its slot back. */
  private readonly nextOnAck = (): NextRequest | undefined => {
    const batch = this.wanted(this.free + 1);
    if (batch <= 0) return undefined;
    this.asked(batch);
    return { batch, expiresMs: this.expiresMs, inbox: this.inbox };
  };

  private asked(batch: number): void {
    if (this.requested === 0) this.heardAt = performance.now();
    this.requested += batch;
  }

  private receive(msg: Msg): void {
    this.heardAt = performance.now();
    if (!msg.reply) {
      this.status(msg);
      return;
    }
    this.requested = Math.max(0, this.requested - 1);
    let work: WorkMessage;
    try {
      work = new WorkMessage(this.nc, msg, this.nextOnAck);
    } catch (err) {
      this.log.error({ err, subject: msg.subject }, 'ignoring a message that is no work item');
      return;
    }
    this.free -= 1;
    void this.onMessage(work).finally(() => {
      this.free += 1;
      this.pull();
    });
  }

  /** A status message about pull requests: expired (408), refused or cut short (409), or malformed (400). */
  private status(msg: Msg): void {
    const owed = Number(msg.headers?.get('Nats-Pending-Messages') ?? 0);
    if (owed > 0) this.requested = Math.max(0, this.requested - owed);
    const code = msg.headers?.code ?? 0;
    if (code !== 408 && code !== 404) {
      this.log.warn({ code, description: msg.headers?.description, owed }, 'pull request answered with an error');
    }
    this.pull();
  }

  /** Takes requests the server has not answered long past their expiry for lost, and asks again. */
  private check(): void {
    if (this.requested > 0 && performance.now() - this.heardAt > this.expiresMs + LOST_REQUEST_GRACE_MS) {
      this.log.warn({ requested: this.requested }, 'pull requests went unanswered; asking again');
      this.requested = 0;
    }
    this.pull();
  }

  /** Requests die with a connection: after a reconnect, asks again at once. */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.stopped) break;
      if (status.type === 'reconnect') {
        this.requested = 0;
        this.pull();
      }
    }
  }

  private failed(err: Error): void {
    this.log.error({ err }, 'pull subscription failed');
  }
}

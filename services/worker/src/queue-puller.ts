import { createInbox, nanos, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from '@weft/shared';
import { WorkMessage, type NextRequest } from './work-message.js';

/** Options of a {@link QueuePuller}. */
export interface QueuePullerOptions {
  /** How long one pull request waits for messages, in milliseconds. @default 5000 */
  readonly pullExpiresMs?: number;
  /**
   * Called when a request finds no consumer (it was deleted, say), to create it again;
   * at most every {@link RECREATE_AFTER_MS}. Pulling goes on meanwhile, and finds it
   * once it is back.
   */
  readonly recreateConsumer?: () => Promise<unknown>;
}

/** Least time between two attempts to create a missing consumer again, in milliseconds. */
const RECREATE_AFTER_MS = 5000;

/** Beyond a pull request's expiry, how long silence may last before it is taken for lost, in milliseconds. */
const LOST_REQUEST_GRACE_MS = 2000;

/** How long the puller waits before asking again after a request failed, in milliseconds. */
const RETRY_AFTER_ERROR_MS = 1000;

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
 * answers every expired one (`408`), and silence beyond that means the requests
 * are gone. A refused request is asked again after a second, not at once.
 */
export class QueuePuller {
  private free: number;
  /**
   * Requests waiting at the server, oldest first: how many messages each still owes.
   * The server fills them in that order and expires them in that order too.
   */
  private waiting: number[] = [];
  /** When the puller last heard from the server, or started waiting for it. */
  private heardAt = 0;
  private readonly inbox = createInbox();
  private readonly requestSubject: string;
  private readonly expiresMs: number;
  private readonly recreateConsumer: (() => Promise<unknown>) | undefined;
  /** When the consumer was last created again (or that was tried). */
  private recreatedAt = Number.NEGATIVE_INFINITY;
  private sub: Subscription | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Set while the puller waits after a failed request. */
  private retry: NodeJS.Timeout | undefined;
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
    this.recreateConsumer = options.recreateConsumer;
  }

  /** Slots free for more messages now. */
  get freeSlots(): number {
    return this.free;
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
    if (this.waiting.length === 0) this.pull();
  }

  /**
   * Stops pulling new messages (requests still waiting at the server are dropped with
   * the subscription); messages being processed are not affected.
   */
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    this.sub?.unsubscribe();
    return Promise.resolve();
  }

  /** How many more messages to ask for, when `free` slots are free. */
  private wanted(free: number): number {
    if (this.stopped || !this.sub || this.retry) return 0;
    return Math.min(free, this.room(free)) - this.requested();
  }

  /** Messages asked for and not delivered yet. */
  private requested(): number {
    let total = 0;
    for (const owed of this.waiting) total += owed;
    return total;
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
    if (this.waiting.length === 0) this.heardAt = performance.now();
    this.waiting.push(batch);
  }

  private receive(msg: Msg): void {
    this.heardAt = performance.now();
    if (!msg.reply) {
      this.status(msg);
      return;
    }
    const [oldest] = this.waiting;
    if (oldest !== undefined && oldest > 1) this.waiting[0] = oldest - 1;
    else this.waiting.shift();
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

  /**
   * A status message about pull requests: expired (408), refused (400, or 409 when a
   * limit such as MaxWaiting is exceeded), or ended with the consumer (409 when it was
   * deleted, 503 when there is none).
   */
  private status(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    const description = msg.headers?.description ?? '';
    if (code === 408 || code === 404) {
      // The oldest request expired (or found nothing at once): more may be asked for.
      this.waiting.shift();
      this.pull();
      return;
    }
    if (code === 400 || /exceeded/i.test(description)) this.waiting.pop();
    else this.waiting = [];
    this.log.warn({ code, description }, 'pull request failed; asking again shortly');
    // No responders: nothing serves the consumer's requests, so it is gone.
    if (code === 503 || /consumer (deleted|not found)/i.test(description)) this.recreate();
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.pull();
    }, RETRY_AFTER_ERROR_MS);
    this.retry.unref();
  }

  /** Creates the consumer again, unless that was tried a moment ago. */
  private recreate(): void {
    const now = performance.now();
    if (!this.recreateConsumer || this.stopped || now - this.recreatedAt < RECREATE_AFTER_MS) return;
    this.recreatedAt = now;
    this.recreateConsumer().then(
      () => this.log.warn('the queue\'s consumer was missing: created it again'),
      (err: unknown) => this.log.warn({ err }, 'could not create the queue\'s consumer again'),
    );
  }

  /** Takes requests the server has not answered long past their expiry for lost, and asks again. */
  private check(): void {
    if (this.waiting.length > 0 && performance.now() - this.heardAt > this.expiresMs + LOST_REQUEST_GRACE_MS) {
      this.log.warn({ requests: this.waiting.length }, 'pull requests went unanswered; asking again');
      this.waiting = [];
    }
    this.pull();
  }

  /** Requests die with a connection: after a reconnect, asks again at once. */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.stopped) break;
      if (status.type === 'reconnect') {
        this.waiting = [];
        this.pull();
      }
    }
  }

  private failed(err: Error): void {
    this.log.error({ err }, 'pull subscription failed');
  }
}

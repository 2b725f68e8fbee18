import { nanos, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { decodeWire, InvalidMessageError, parseMessage, WorkItemSchema, type WorkItem } from '@weft/shared';

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
const WORKING = encoder.encode('+WPI');
const TERM = encoder.encode('+TERM');

/** Where a message stands in its consumer, read from its reply subject. */
export interface DeliveryInfo {
  readonly stream: string;
  readonly consumer: string;
  /** Times the message was delivered, this time included. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  readonly streamSequence: number;
  /** When the stream stored the message, in milliseconds since the epoch (by the NATS server's clock). */
  readonly storedAtMs: number;
}

/**
 * Header of a work item sent again by a work item that was itself a repeat (see
 * {@link WorkMessage.repeat}).
 */
export const REPEAT_HEADER = 'Weft-Repeat';

/** More messages to ask for along with an acknowledgement (see {@link WorkMessage.ack}). */
export interface NextRequest {
  readonly batch: number;
  /** How long the request waits for messages, in milliseconds. */
  readonly expiresMs: number;
  /** Where the messages go. */
  readonly inbox: string;
}

/**
 * A work item pulled from a queue's consumer, with the acknowledgements JetStream
 * takes for it: one that settles it (`ack`, `nak`, `term`; later ones are ignored)
 * and any number of `working` before that.
 */
export class WorkMessage {
  readonly info: DeliveryInfo;
  private settled = false;
  /** When the acknowledgement timer was last restarted (or the message arrived), by `performance.now()`. */
  private keptAt = performance.now();
  /** Whether the timer may have run out meanwhile (see {@link mayHaveLapsed}). */
  private lapsed = false;

  /**
   * @param next asked when the message is acknowledged: more messages to request in
   *   the same protocol message, if any
   * @throws InvalidMessageError when the message does not come from a JetStream consumer
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly msg: Msg,
    private readonly next: () => NextRequest | undefined = () => undefined,
  ) {
    this.info = parseDeliveryInfo(msg.reply);
  }

  get subject(): string {
    return this.msg.subject;
  }

  /**
   * Whether the item may have been processed before: it was delivered before (a worker
   * died or gave it back), or it was sent again by such an item. (JetStream drops the
   * same item sent twice only within its duplicate window; one sent again later is a
   * new message, delivered for the first time.)
   */
  get repeat(): boolean {
    return this.info.redelivered || this.msg.headers?.get(REPEAT_HEADER) === '1';
  }

  /** How long the message has been in its stream, in milliseconds (0 when the clocks disagree the other way). */
  get ageMs(): number {
    return Math.max(0, Date.now() - this.info.storedAtMs);
  }

  string(): string {
    return this.msg.string();
  }

  /** Acknowledges the message as done, asking for the next ones at once when the worker has room. */
  ack(): void {
    if (this.settle()) return;
    const next = this.next();
    if (!next) {
      this.send(ACK);
      return;
    }
    const request = JSON.stringify({ batch: next.batch, expires: nanos(next.expiresMs) });
    this.nc.publish(this.reply, encoder.encode(`+NXT ${request}`), { reply: next.inbox });
  }

  /** Hands the message back for redelivery, after `delayMs` when given. */
  nak(delayMs?: number): void {
    if (this.settle()) return;
    this.send(delayMs === undefined ? NAK : encoder.encode(`-NAK ${JSON.stringify({ delay: nanos(delayMs) })}`));
  }

  /**
   * Stops redelivery for good. (Plain `+TERM`: nats-server 2.9 ignores a `+TERM` that
   * carries a reason, as newer servers accept, and would redeliver the message.)
   */
  term(): void {
    if (this.settle()) return;
    this.send(TERM);
  }

  /**
   * Restarts the message's acknowledgement timer, noting whether it may have run out
   * since it was last restarted (`ackWaitMs` went by: the event loop stalled, say).
   */
  working(ackWaitMs: number): void {
    if (this.settled) return;
    this.mayHaveLapsed(ackWaitMs);
    this.keptAt = performance.now();
    this.send(WORKING);
  }

  /** The acknowledgement timer may have run out: the connection dropped while the message was held. */
  markLapsed(): void {
    this.lapsed = true;
  }

  /**
   * Whether JetStream may have delivered the message again meanwhile, to another
   * worker: its acknowledgement timer was not restarted for `ackWaitMs`, or may not
   * have been (see {@link markLapsed}). The item then counts as a repeat for what it
   * sends on, since past the duplicate window both copies' sends would be stored.
   */
  mayHaveLapsed(ackWaitMs: number): boolean {
    if (!this.lapsed && performance.now() - this.keptAt > ackWaitMs) this.lapsed = true;
    return this.lapsed;
  }

  private get reply(): string {
    return this.msg.reply as string;
  }

  /** @returns whether the message was settled already */
  private settle(): boolean {
    const was = this.settled;
    this.settled = true;
    return was;
  }

  private send(payload: Uint8Array): void {
    this.nc.publish(this.reply, payload);
  }
}

/**
 * Reads `$JS.ACK.<stream>.<consumer>.<delivered>.<streamSeq>.<consumerSeq>.<timestamp>.<pending>`,
 * or its newer form with a domain and an account hash after `ACK` and a token at the end.
 */
function parseDeliveryInfo(reply: string | undefined): DeliveryInfo {
  const tokens = reply?.split('.') ?? [];
  if (tokens.length === 9) tokens.splice(2, 0, '_', '');
  if (tokens.length < 11 || tokens[0] !== '$JS' || tokens[1] !== 'ACK') {
    throw new InvalidMessageError(`not a JetStream message (reply subject "${reply ?? ''}")`);
  }
  const deliveryCount = Number(tokens[6]);
  const streamSequence = Number(tokens[7]);
  // Nanoseconds beyond 2^53: exact enough for milliseconds.
  const storedAtMs = Number(tokens[9]) / 1e6;
  if (!Number.isSafeInteger(deliveryCount) || deliveryCount < 1 || !Number.isSafeInteger(streamSequence) || !Number.isFinite(storedAtMs)) {
    throw new InvalidMessageError(`malformed JetStream reply subject "${reply ?? ''}"`);
  }
  return {
    stream: tokens[4] as string,
    consumer: tokens[5] as string,
    deliveryCount,
    redelivered: deliveryCount > 1,
    streamSequence,
    storedAtMs,
  };
}

/** The work item a message carries. @throws InvalidMessageError when it holds none, JSON or not */
export function parseWorkItem(msg: WorkMessage): WorkItem {
  let data: unknown;
  try {
    data = decodeWire(msg.string());
  } catch (err) {
    throw new InvalidMessageError(`a work item is not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseMessage(WorkItemSchema, data, 'work item');
}

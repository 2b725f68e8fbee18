import { ClosedConnectionError, createInbox, headers, nuid, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { WriteTimeoutError } from '../errors.js';
import { kvSubject, type ResourceNames } from '../names.js';
import { onConnectionInterrupted } from './connection-interruptions.js';
import { parseWriteAck, type WriteAck } from './write-acks.js';

/** How a write is checked and deduplicated by JetStream. */
export interface WriteOptions {
  /** Message id for JetStream's duplicate detection (`Nats-Msg-Id`). */
  readonly msgId?: string;
  /**
   * Compare-and-set: the write is refused unless the last message on its subject has
   * this sequence (a KV entry's revision); 0 means there must be none.
   */
  readonly expectLastSubjectSequence?: number;
  /** More headers to send with the message. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Where JetStream stored a write. */
export interface StoredWrite {
  readonly stream: string;
  readonly seq: number;
}

/** Options of {@link JetStreamWriter.open}. */
export interface JetStreamWriterOptions {
  /**
   * How long a write waits for its acknowledgement, in milliseconds (less when the
   * connection is interrupted meanwhile). @default 5000
   */
  readonly ackTimeoutMs?: number;
}

interface PendingWrite {
  readonly subject: string;
  readonly deadline: number;
  readonly resolve: (stored: StoredWrite) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Acknowledged JetStream writes (publishes, KV puts and compare-and-sets) for hot
 * paths. Replies come to one long-lived subscription and time out through one
 * timer, instead of each request opening its own reply slot, timer and error
 * object; a write costs little more than the message itself.
 *
 * Job record writes ({@link writeJobRecord}) choose their reply subject under the
 * job, so the requests waiting on the job receive JetStream's acknowledgement too.
 * Create with {@link JetStreamWriter.open}; {@link close} (also called when the
 * connection closes) fails writes still waiting. So does an interruption of the
 * connection (lost, or re-established), as if they had timed out: their
 * acknowledgements cannot come then.
 */
export class JetStreamWriter {
  private serial = 0;
  private readonly pending = new Map<string, PendingWrite>();
  private readonly subscriptions: Subscription[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly names: ResourceNames,
    /** Subject prefix of this writer's own replies. */
    private readonly inbox: string,
    /** This writer's token in job record acknowledgement subjects. */
    private readonly token: string,
    private readonly ackTimeoutMs: number,
  ) {}

  /** Starts listening for acknowledgements. */
  static async open(nc: NatsConnection, names: ResourceNames, options: JetStreamWriterOptions = {}): Promise<JetStreamWriter> {
    const writer = new JetStreamWriter(nc, names, createInbox(), nuid.next(), options.ackTimeoutMs ?? 5000);
    for (const subject of [`${writer.inbox}.*`, names.recordAcksFor(writer.token)]) {
      writer.subscriptions.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) writer.settle(msg.subject, parseWriteAck(msg));
          },
        }),
      );
    }
    // Deadlines are checked in sweeps: a write may wait up to a sweep longer than its timeout.
    writer.sweeper = setInterval(() => writer.expire(), Math.max(100, writer.ackTimeoutMs / 5));
    writer.sweeper.unref();
    writer.stopWatching = onConnectionInterrupted(nc, () => writer.interrupted());
    void nc.closed().then(() => writer.close());
    // The subscriptions must be in place before the first acknowledgement can come.
    await nc.flush();
    return writer;
  }

  /**
   * Publishes `data` on `subject` and waits for JetStream to store it.
   * @throws JetStreamApiError when JetStream refuses it (`isWrongLastSequence` tells a lost compare-and-set)
   * @throws WriteTimeoutError without an acknowledgement in time, or when the
   * connection is lost or re-established before it comes (the write may be stored)
   */
  publish(subject: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<StoredWrite> {
    return this.send(subject, data, options, `${this.inbox}.${++this.serial}`);
  }

  /**
   * Writes `data` under `key` of KV bucket `bucket` if the key's revision is still
   * `expectedRevision` (0: if the key has no value), like the KV client's `update`
   * (and `create`, except that this does not take the place of a deleted value).
   * @returns the key's new revision
   */
  async writeKv(bucket: string, key: string, data: Uint8Array | string, expectedRevision: number): Promise<number> {
    return (await this.publish(kvSubject(bucket, key), data, { expectLastSubjectSequence: expectedRevision })).seq;
  }

  /**
   * Writes `data` as the record of job `jobId` if the record's revision is still
   * `expectedRevision` (0: if there is no record), with JetStream's acknowledgement
   * sent where the job's watchers listen as well (see `ResourceNames.recordAckSubject`).
   * @returns the record's new revision
   */
  async writeJobRecord(jobId: string, data: Uint8Array | string, expectedRevision: number): Promise<number> {
    const reply = this.names.recordAckSubject(jobId, this.token, ++this.serial);
    const subject = this.names.jobRecordSubject(jobId);
    return (await this.send(subject, data, { expectLastSubjectSequence: expectedRevision }, reply)).seq;
  }

  /** Stops listening; writes still waiting fail. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.stopWatching?.();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const reply of [...this.pending.keys()]) this.settle(reply, { ok: false, error: writerClosed() });
  }

  private send(subject: string, data: Uint8Array | string, options: WriteOptions, reply: string): Promise<StoredWrite> {
    if (this.closed) return Promise.reject(writerClosed());
    let hdrs: ReturnType<typeof headers> | undefined;
    if (options.msgId !== undefined || options.expectLastSubjectSequence !== undefined || options.headers !== undefined) {
      hdrs = headers();
      if (options.msgId !== undefined) hdrs.set('Nats-Msg-Id', options.msgId);
      if (options.expectLastSubjectSequence !== undefined) {
        hdrs.set('Nats-Expected-Last-Subject-Sequence', String(options.expectLastSubjectSequence));
      }
      for (const [name, value] of Object.entries(options.headers ?? {})) hdrs.set(name, value);
    }
    return new Promise<StoredWrite>((resolve, reject) => {
      this.pending.set(reply, { subject, deadline: performance.now() + this.ackTimeoutMs, resolve, reject });
      try {
        this.nc.publish(subject, data, hdrs ? { reply, headers: hdrs } : { reply });
      } catch (err) {
        this.pending.delete(reply);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private settle(reply: string, ack: WriteAck): void {
    const write = this.pending.get(reply);
    if (!write) return;
    this.pending.delete(reply);
    if (ack.ok) write.resolve({ stream: ack.stream, seq: ack.seq });
    else write.reject(ack.error);
  }

  /**
   * Fails every write still waiting, as timed out: the connection was lost, or was
   * re-established after a loss, and their acknowledgements cannot come (see
   * `onConnectionInterrupted`). Failing one that would still have been acknowledged
   * (published during the handshake of the new connection, or, in a cluster,
   * acknowledged to the new connection) is harmless: writers take it as they take a
   * timeout, for a write that may have been stored (a compare-and-set tried again
   * finds the key changed and reads it again; a publish tried again under its message
   * id is deduplicated).
   */
  private interrupted(): void {
    const writes = [...this.pending.values()];
    this.pending.clear();
    for (const write of writes) write.reject(new WriteTimeoutError(write.subject, this.ackTimeoutMs, true));
  }

  private expire(): void {
    const now = performance.now();
    for (const [reply, write] of this.pending) {
      // Insertion order is deadline order: the first write still in time ends the sweep.
      if (write.deadline > now) break;
      this.pending.delete(reply);
      write.reject(new WriteTimeoutError(write.subject, this.ackTimeoutMs));
    }
  }
}

/** The error of a write to a closed writer: its connection is closed (as the writer is with it). */
function writerClosed(): ClosedConnectionError {
  const error = new ClosedConnectionError();
  error.message = 'the JetStream writer is closed';
  return error;
}

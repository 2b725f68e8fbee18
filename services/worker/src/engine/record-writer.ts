import { headers, nuid, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { parseWriteAck, type ResourceNames, type WriteAck } from '@weft/shared';
import { RecordWriteTimeoutError } from '../errors.js';

/** How long a write waits for JetStream's acknowledgement, in milliseconds (as long as a nats.js request). */
const ACK_TIMEOUT_MS = 5000;

interface PendingWrite {
  readonly resolve: (revision: number) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Writes job records with compare-and-set, choosing the subject JetStream sends its
 * acknowledgement to: one under the job, which the requests waiting on the job
 * listen to as well as this writer. A waiting API thus answers as soon as the
 * record is stored, instead of after the acknowledgement has come back here and a
 * notification has gone out again. Create with {@link RecordWriter.open}.
 */
export class RecordWriter {
  private serial = 0;
  private readonly pending = new Map<string, PendingWrite>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly names: ResourceNames,
    /** This writer's token in acknowledgement subjects. */
    private readonly token: string,
  ) {}

  private subscription: Subscription | undefined;

  /** Starts listening for this writer's acknowledgements. */
  static async open(nc: NatsConnection, names: ResourceNames): Promise<RecordWriter> {
    const writer = new RecordWriter(nc, names, nuid.next());
    writer.subscription = nc.subscribe(names.recordAcksFor(writer.token), {
      callback: (err, msg) => {
        if (!err) writer.settle(msg.subject, parseWriteAck(msg));
      },
    });
    // The subscription must be in place before the first acknowledgement can come.
    await nc.flush();
    return writer;
  }

  /**
   * Stores `data` as the record of `jobId` if the record's revision is still
   * `expectedRevision` (0: if there is no record).
   * @returns the new revision
   * @throws JetStreamApiError that `isWrongLastSequence` recognises when the record changed
   */
  write(jobId: string, data: Uint8Array | string, expectedRevision: number): Promise<number> {
    const reply = this.names.recordAckSubject(jobId, this.token, ++this.serial);
    const expect = headers();
    expect.set('Nats-Expected-Last-Subject-Sequence', String(expectedRevision));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reply);
        reject(new RecordWriteTimeoutError(jobId, ACK_TIMEOUT_MS));
      }, ACK_TIMEOUT_MS);
      this.pending.set(reply, { resolve, reject, timer });
      try {
        this.nc.publish(this.names.jobRecordSubject(jobId), data, { reply, headers: expect });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(reply);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Stops listening; writes still waiting fail. */
  close(): void {
    this.subscription?.unsubscribe();
    for (const reply of [...this.pending.keys()]) this.settle(reply, { ok: false, error: new Error('the record writer is closed') });
  }

  private settle(reply: string, ack: WriteAck): void {
    const write = this.pending.get(reply);
    if (!write) return;
    this.pending.delete(reply);
    clearTimeout(write.timer);
    if (ack.ok) write.resolve(ack.seq);
    else write.reject(ack.error);
  }
}

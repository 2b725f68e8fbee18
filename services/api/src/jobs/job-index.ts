/**
 * Reading the job index: the stream where each job gets one entry when it is
 * submitted, in the order jobs were accepted (see `publishStart`). Entries never
 * change, and expire with the retention, so a range of sequence numbers always holds
 * the same jobs: listings page through it by sequence.
 */
import { DeliverPolicy } from '@nats-io/jetstream';
import { decodeWireBytes, IncompleteReadError, JobIndexEntrySchema, type Infrastructure } from '@weft/shared';

/** One job of the index. */
export interface IndexedJob {
  /** The entry's sequence number in the index stream. */
  readonly seq: number;
  readonly id: string;
}

/** The sequence numbers the index holds now; empty when `last < first`. */
export interface IndexBounds {
  readonly first: number;
  readonly last: number;
}

/** How long reading one range may take, in milliseconds. */
const READ_TIMEOUT_MS = 5000;

/** The job index of one installation. */
export class JobIndex {
  constructor(private readonly infra: Pick<Infrastructure, 'js' | 'jsm' | 'names'>) {}

  /** The sequence numbers of the oldest and newest entries. */
  async bounds(): Promise<IndexBounds> {
    const { state } = await this.infra.jsm.streams.info(this.infra.names.jobIndexStream);
    return state.messages === 0 ? { first: state.last_seq + 1, last: state.last_seq } : { first: state.first_seq, last: state.last_seq };
  }

  /**
   * The entries from sequence `from` to `to` (both included, `to` at most the last
   * one), newest first. Entries that expired meanwhile are missing, and so are
   * undecodable ones.
   * @throws IncompleteReadError when the stream stops delivering before `to`, or the read fails
   */
  async read(from: number, to: number): Promise<IndexedJob[]> {
    const entries: IndexedJob[] = [];
    try {
      if (await this.readInto(entries, from, to)) return entries.reverse();
      // Ended short: it waited out its expiry for entries that may have expired meanwhile.
      if ((await this.bounds()).first > to) return entries.reverse();
    } catch (err) {
      throw new IncompleteReadError(`could not read the job index from entry ${from} to ${to}`, { cause: err });
    }
    throw new IncompleteReadError(`the job index stopped before entry ${to}`);
  }

  /**
   * Adds the entries from `from` to `to` to `entries`, oldest first.
   * @returns whether it got to `to`
   */
  private async readInto(entries: IndexedJob[], from: number, to: number): Promise<boolean> {
    const { js, names } = this.infra;
    const consumer = await js.consumers.get(names.jobIndexStream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    let deadline: NodeJS.Timeout | undefined;
    try {
      const messages = await consumer.fetch({ max_messages: to - from + 1, expires: READ_TIMEOUT_MS });
      // The fetch's own expiry comes from the server: a stalled server would hold it.
      deadline = setTimeout(() => void messages.close().catch(() => undefined), READ_TIMEOUT_MS + 1000);
      for await (const msg of messages) {
        // Past `to` only when the whole range expired meanwhile (the oldest entries go first).
        if (msg.seq > to) return true;
        const entry = JobIndexEntrySchema.safeParse(safeDecode(msg.data));
        if (entry.success) entries.push({ seq: msg.seq, id: entry.data.id });
        if (msg.seq === to) return true;
      }
      return false;
    } finally {
      clearTimeout(deadline);
      // Ordered consumers otherwise stay on the server for minutes.
      void consumer.delete().catch(() => undefined);
    }
  }
}

function safeDecode(bytes: Uint8Array): unknown {
  try {
    return decodeWireBytes(bytes);
  } catch {
    return undefined;
  }
}

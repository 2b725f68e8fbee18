/**
 * The ids of the jobs bucket, newest first, without listing every key.
 *
 * The bucket keeps one message per job (history 1), so its stream holds each job once,
 * at the place of its record's last write. A job is written first when it is created,
 * and its id begins with its creation time: a job whose message comes before a window
 * of the stream's last messages was created before the window's first message was
 * written. The ids are thus read from the end of the stream, in windows that widen
 * fourfold until they cover it: a window yields, newest first, the ids it holds that
 * were created after its first message (and that an earlier window has not yielded).
 * Ids carry the time of the API that made them and messages that of nats-server, so
 * that time is moved on by how far the API's clock may be ahead: `clockSkewMs`, or
 * more when the window shows a job written before its id's time.
 *
 * A listing of the newest jobs thus reads about as many messages as it returns (or
 * as were written in the last `clockSkewMs`, when more), where listing every key
 * cost time and memory in proportion to all the jobs kept.
 */
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { isJobId, jobIdTime, type Infrastructure } from '@weft/shared';

/** Messages asked for at once. */
const FETCH_BATCH = 4_096;

/** How long a fetch waits for messages that were pending when it began, in milliseconds. */
const FETCH_EXPIRES_MS = 2_000;

/** Options of {@link recentJobIds}. */
export interface RecentJobIdsOptions {
  /** How many ids the caller expects to need: the first window holds up to twice as many. */
  readonly expected: number;
  /** The fewest stream sequences a window covers. @default 256 */
  readonly minWindow?: number;
  /** How far the clock of an API process may be ahead of nats-server's, in milliseconds. @default 1000 */
  readonly clockSkewMs?: number;
}

/**
 * Yields the ids of the jobs bucket newest first (by creation time). Ids of deleted
 * jobs may come too: their delete markers are messages. No window is read before the
 * caller asks for an id beyond the previous one's, and nothing stays open between
 * ids, so the caller may stop at any point.
 */
export async function* recentJobIds(
  infra: Pick<Infrastructure, 'js' | 'jsm' | 'names'>,
  options: RecentJobIdsOptions,
): AsyncGenerator<string, void, undefined> {
  const { expected, minWindow = 256, clockSkewMs = 1_000 } = options;
  const stream = `KV_${infra.names.jobsBucket}`;
  const { state } = await infra.jsm.streams.info(stream);
  if (state.messages === 0) return;
  let size = Math.max(minWindow, 2 * expected);
  /** Every id created after this time has been yielded. */
  let yieldedAfter = Number.POSITIVE_INFINITY;
  for (;;) {
    const startSeq = state.last_seq - size + 1;
    const whole = startSeq <= state.first_seq;
    const { ids, firstMs, aheadMs } = await readWindow(infra, stream, whole ? undefined : startSeq);
    // A window whose messages are all gone since tells nothing: none of its ids is sure.
    const certainAfter = whole ? Number.NEGATIVE_INFINITY : (firstMs ?? Number.POSITIVE_INFINITY) + Math.max(clockSkewMs, aheadMs);
    const fresh = ids.filter((id) => {
      const time = jobIdTime(id);
      return time > certainAfter && time <= yieldedAfter;
    });
    fresh.sort().reverse();
    yield* fresh;
    if (whole) return;
    yieldedAfter = Math.min(yieldedAfter, certainAfter);
    size *= 4;
  }
}

/** What a window holds. */
interface Window {
  /** The job ids of its messages. */
  readonly ids: string[];
  /** When its first message was written (nats-server's clock), in epoch milliseconds; undefined when it had none. */
  readonly firstMs: number | undefined;
  /** How far the time of an id was ahead of its message's, at most, in milliseconds. */
  readonly aheadMs: number;
}

/**
 * The job ids of the bucket stream's messages from sequence `startSeq` on (all of
 * them when undefined), read through an ephemeral consumer of headers only.
 */
async function readWindow(infra: Pick<Infrastructure, 'js' | 'jsm' | 'names'>, stream: string, startSeq: number | undefined): Promise<Window> {
  const { js, jsm, names } = infra;
  const prefix = `$KV.${names.jobsBucket}.`;
  const info = await jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    // One subject, as a string: a list needs nats-server 2.10 or later.
    filter_subject: `${prefix}>`,
    headers_only: true,
    mem_storage: true,
    num_replicas: 1,
    // Removed by the server if this process dies before it does.
    inactive_threshold: nanos(30_000),
    ...(startSeq === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
  });
  const ids = new Set<string>();
  let firstMs: number | undefined;
  let aheadMs = 0;
  try {
    const consumer = js.consumers.getConsumerFromInfo(info);
    let pending = info.num_pending;
    // Messages written since the consumer began are read too, so that a job written
    // again meanwhile (and so moved to the stream's end) is not missed; but no more
    // than were pending at first, so that a steady stream of writes cannot hold the read.
    let budget = 2 * info.num_pending;
    while (pending > 0 && budget > 0) {
      const messages = await consumer.fetch({ max_messages: Math.min(pending, budget, FETCH_BATCH), expires: FETCH_EXPIRES_MS });
      let received = 0;
      for await (const msg of messages) {
        received += 1;
        const writtenMs = msg.info.timestampNanos / 1e6;
        firstMs ??= writtenMs;
        const key = msg.subject.slice(prefix.length);
        if (isJobId(key)) {
          ids.add(key);
          aheadMs = Math.max(aheadMs, jobIdTime(key) - writtenMs);
        }
        pending = msg.info.pending;
        if (pending === 0) break;
      }
      // Nothing came: what was pending is gone (expired).
      if (received === 0) break;
      budget -= received;
    }
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
  return { ids: [...ids], firstMs, aheadMs };
}

/**
 * Listing the keys of a KV bucket. `KV.keys()` of @nats-io/kv follows the bucket
 * live with an ordered consumer: a key updated during the listing comes back twice,
 * and the listing can stall until an idle heartbeat (about 30 s). The stream's
 * per-subject state is a consistent snapshot instead.
 */
import type { JetStreamManager } from '@nats-io/jetstream';

/** The keys of `bucket` (deleted keys included: their delete marker is a message too). */
export async function bucketKeys(jsm: JetStreamManager, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

/**
 * Live workers, from the heartbeats they keep in the workers bucket.
 */
import type { KvEntry } from '@nats-io/kv';
import {
  bucketKeys,
  decodeWireBytes,
  parseMessage,
  WorkerHeartbeatSchema,
  type Infrastructure,
  type Logger,
  type WorkerHeartbeat,
} from '@weft/shared';

/** Heartbeats missed before a worker counts as gone (its entry may not have expired yet). */
export const STALE_AFTER_HEARTBEATS = 3;

/** Whether a heartbeat is too old to mean the worker is alive. */
export function isStale(heartbeat: WorkerHeartbeat, now: number): boolean {
  const seenAt = Date.parse(heartbeat.seenAt);
  return !Number.isFinite(seenAt) || now - seenAt > STALE_AFTER_HEARTBEATS * heartbeat.heartbeatMs;
}

/** The fresh heartbeats in the bucket, ordered by worker name and id. */
export async function liveWorkers(
  infra: Pick<Infrastructure, 'jsm' | 'workers' | 'names'>,
  log: Logger,
  now = Date.now(),
): Promise<WorkerHeartbeat[]> {
  const { workers } = infra;
  const keys = await bucketKeys(infra.jsm, infra.names.workersBucket);
  const entries = await Promise.all(keys.map((key) => workers.get(key)));
  const live: WorkerHeartbeat[] = [];
  for (const entry of entries) {
    if (!entry || entry.operation !== 'PUT') continue;
    const heartbeat = readHeartbeat(entry, log);
    if (heartbeat !== undefined && !isStale(heartbeat, now)) live.push(heartbeat);
  }
  return live.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** The heartbeat an entry of the workers bucket holds; undefined (and a warning logged) when it holds none. */
export function readHeartbeat(entry: KvEntry, log: Logger): WorkerHeartbeat | undefined {
  try {
    return parseMessage(WorkerHeartbeatSchema, decodeWireBytes(entry.value), 'worker heartbeat');
  } catch (err) {
    log.warn({ err, key: entry.key }, 'ignoring an invalid worker heartbeat');
    return undefined;
  }
}

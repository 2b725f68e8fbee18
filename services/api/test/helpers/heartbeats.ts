/**
 * Heartbeats written into the workers bucket by hand, as a worker that is not running
 * would have left them.
 */
import { encodeWire, type Infrastructure, type WorkerHeartbeat } from '@weft/shared';

/**
 * Writes the heartbeat of a worker `id` that pulls from `queues`, last seen `seenAgoMs`
 * ago (negative: in the future, so that it stays fresh for as long).
 */
export async function putHeartbeat(
  infra: Pick<Infrastructure, 'workers'>,
  id: string,
  queues: string[],
  seenAgoMs: number,
): Promise<WorkerHeartbeat> {
  const heartbeat: WorkerHeartbeat = {
    id,
    name: 'ghost',
    host: 'nowhere',
    pid: 1,
    version: '0.0.0',
    queues,
    threads: 1,
    concurrency: 1,
    heartbeatMs: 500,
    inFlight: 0,
    processed: 0,
    failed: 0,
    startedAt: new Date(Date.now() - 60_000).toISOString(),
    seenAt: new Date(Date.now() - seenAgoMs).toISOString(),
  };
  await infra.workers.put(id, encodeWire(heartbeat));
  return heartbeat;
}

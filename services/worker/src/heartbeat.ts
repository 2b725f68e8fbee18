import os from 'node:os';
import type { KV } from '@nats-io/kv';
import { encodeWire, type WorkerHeartbeat } from '@weft/shared';

/** Counters a worker reports in its heartbeat. */
export interface WorkerStats {
  readonly inFlight: number;
  readonly processed: number;
  readonly failed: number;
}

/** Publishes the worker's heartbeat entry in the workers bucket (which expires entries that stop being refreshed). */
export class Heartbeat {
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly workers: KV,
    private readonly identity: { id: string; name: string; version: string; queues: readonly string[]; threads: number; concurrency: number; heartbeatMs: number },
    private readonly stats: () => WorkerStats,
  ) {}

  async beat(): Promise<void> {
    const heartbeat: WorkerHeartbeat = {
      ...this.identity,
      queues: [...this.identity.queues],
      host: os.hostname(),
      pid: process.pid,
      ...this.stats(),
      startedAt: this.startedAt,
      seenAt: new Date().toISOString(),
    };
    await this.workers.put(this.identity.id, encodeWire(heartbeat));
  }

  /** Removes the entry so the worker disappears from listings at once. */
  async remove(): Promise<void> {
    await this.workers.delete(this.identity.id);
  }
}

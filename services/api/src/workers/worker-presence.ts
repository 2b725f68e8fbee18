/**
 * The queues live workers pull from, kept in memory from the workers bucket, so that
 * a submission can tell without a read that no worker serves a queue its job uses.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KvEntry } from '@nats-io/kv';
import { bucketKeys, type Infrastructure, type Logger, type WorkerHeartbeat } from '@weft/shared';
import { isStale, readHeartbeat } from './live-workers.js';

/** Wait before watching the bucket again after the watch failed or ended, in milliseconds. */
const REWATCH_DELAY_MS = 1_000;

/** How long the set of served queues is reused while no heartbeat changes, in milliseconds. */
const SERVED_REUSE_MS = 1_000;

/**
 * Interval of the sweep of stale heartbeats as changes come in, in milliseconds: an
 * entry that expires through the bucket's TTL brings no change of its own.
 */
const SWEEP_INTERVAL_MS = 60_000;

/** A key's latest heartbeat. */
interface Seen {
  readonly revision: number;
  readonly heartbeat: WorkerHeartbeat;
}

/**
 * Follows the workers bucket while started: a watch for changes, and one read of every
 * entry each time the watch (re)starts. Until that read is done nothing is known, and
 * {@link WorkerPresence.unserved} names no queue.
 */
export class WorkerPresence {
  private readonly seen = new Map<string, Seen>();
  private known = false;
  /** The queues live workers pull from, as last computed; dropped on every change. */
  private served: { readonly at: number; readonly queues: ReadonlySet<string> } | undefined;
  private sweptAt = 0;
  private readonly stopping = new AbortController();
  private watching: Promise<void> | undefined;
  /** Ends the current watch. */
  private stopWatch: (() => void) | undefined;

  constructor(
    private readonly infra: Pick<Infrastructure, 'jsm' | 'workers' | 'names'>,
    private readonly log: Logger,
  ) {}

  /** Starts following the bucket; returns at once. */
  start(): void {
    this.watching ??= this.follow();
  }

  /**
   * Those of `queues` that no live worker pulls from, in the order given; none while
   * the workers are not known (before the first read, or while the watch restarts).
   */
  unserved(queues: Iterable<string>, now = Date.now()): string[] {
    if (!this.known) return [];
    // Computed once for many views (a listing), not once per job.
    if (this.served === undefined || now - this.served.at > SERVED_REUSE_MS) this.served = { at: now, queues: this.sweep(now) };
    const served = this.served.queues;
    return [...queues].filter((queue) => !served.has(queue));
  }

  /** Drops stale heartbeats (a worker that died leaves its entry until the bucket's TTL); returns the live ones' queues. */
  private sweep(now: number): Set<string> {
    this.sweptAt = now;
    const served = new Set<string>();
    for (const [key, { heartbeat }] of this.seen) {
      if (isStale(heartbeat, now)) this.seen.delete(key);
      else for (const queue of heartbeat.queues) served.add(queue);
    }
    return served;
  }

  /** Stops following the bucket. */
  async close(): Promise<void> {
    this.stopping.abort();
    this.stopWatch?.();
    await this.watching;
  }

  private async follow(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        await this.watchOnce();
      } catch (err) {
        if (!signal.aborted) this.log.warn({ err }, 'could not follow the workers bucket; watching it again');
      }
      this.known = false;
      this.seen.clear();
      this.served = undefined;
      await sleep(REWATCH_DELAY_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * Watches changes from now on, reads every entry, then applies the changes until the
   * watch ends. A change made while the entries are read is seen by both: its revision
   * keeps the older state from replacing the newer, and the watch, which delivers every
   * change in order, has the last word.
   */
  private async watchOnce(): Promise<void> {
    const watch = await this.infra.workers.watch({ include: 'updates' });
    this.stopWatch = () => watch.stop();
    if (this.stopping.signal.aborted) watch.stop();
    const keys = await bucketKeys(this.infra.jsm, this.infra.names.workersBucket);
    const entries = await Promise.all(keys.map((key) => this.infra.workers.get(key)));
    for (const entry of entries) if (entry) this.apply(entry);
    this.known = true;
    for await (const entry of watch) this.apply(entry);
  }

  private apply(entry: KvEntry): void {
    const previous = this.seen.get(entry.key);
    if (previous !== undefined && previous.revision >= entry.revision) return;
    const heartbeat = entry.operation === 'PUT' ? readHeartbeat(entry, this.log) : undefined;
    if (heartbeat === undefined) this.seen.delete(entry.key);
    else this.seen.set(entry.key, { revision: entry.revision, heartbeat });
    this.served = undefined;
    const now = Date.now();
    if (now - this.sweptAt > SWEEP_INTERVAL_MS) this.sweep(now);
  }
}

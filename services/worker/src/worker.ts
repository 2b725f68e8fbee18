import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  createFileAccess,
  createLogger,
  InvalidMessageError,
  openFileStore,
  provisionInfrastructure,
  TaskCatalogue,
  ValueStore,
  ValueTooLargeError,
  WeftError,
  type Infrastructure,
  type Logger,
  type WorkerConfig,
  type WorkItem,
} from '@weft/shared';
import { CasBucket } from './engine/cas-bucket.js';
import { ChildTracker } from './engine/child-tracker.js';
import { ReduceInputs } from './engine/reduce-inputs.js';
import { Dispatcher } from './engine/dispatcher.js';
import { JobEngine } from './engine/job-engine.js';
import { JobRecords } from './engine/job-records.js';
import { JobStops } from './engine/job-stops.js';
import { PlanCache } from './engine/plan-cache.js';
import { ProgressReporter } from './engine/progress-reporter.js';
import { Results } from './engine/results.js';
import { JobStoppedError, PoisonWorkItemError, WorkerClosingError } from './errors.js';
import { CpuPool } from './execution/cpu-pool.js';
import { Limiter } from './execution/limiter.js';
import { TaskRunner } from './execution/task-runner.js';
import { HandBacks } from './hand-backs.js';
import { Heartbeat, type WorkerStats } from './heartbeat.js';
import { ensureQueueConsumer } from './queue-consumer.js';
import { JobStopWatch } from './job-stop-watch.js';
import { QueuePuller } from './queue-puller.js';
import { ThreadClaims } from './thread-claims.js';
import { parseWorkItem, type WorkMessage } from './work-message.js';
import { WORKER_VERSION } from './version.js';

/** Lifecycle of a worker. */
export type WorkerState = 'running' | 'draining' | 'closed';

/** Optional collaborators of {@link Worker.create}. */
export interface WorkerOptions {
  /** Logger; one is created from the configuration otherwise. */
  readonly logger?: Logger;
}

/**
 * Delay before a work item that hit an infrastructure error is redelivered, in
 * milliseconds: 1 s, doubling with each delivery up to a minute, so that the
 * deliveries allowed before an item counts as poison span minutes of trouble.
 */
function retryDelayMs(deliveries: number): number {
  return Math.min(1000 * 2 ** Math.max(0, deliveries - 1), 60_000);
}

/**
 * A Weft worker: pulls work items from its queues, runs them (CPU-bound tasks on a
 * piscina pool sized to the pod's CPUs), records results and advances jobs. Create
 * with {@link Worker.create}; stop with {@link Worker.close}, which drains.
 */
export class Worker {
  private stateValue: WorkerState = 'running';
  private readonly inFlight = new Set<WorkMessage>();
  /** Work items held that may still need a thread. */
  private readonly claims: ThreadClaims;
  private readonly stats = { processed: 0, failed: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** Time between two ticks (heartbeat, acknowledgement progress, records of held jobs), in milliseconds. */
  private readonly tickMs: number;
  private closing: Promise<void> | undefined;
  private idle: (() => void) | undefined;

  private constructor(
    /** Unique id of this worker process. */
    readonly id: string,
    readonly config: WorkerConfig,
    private readonly nc: NatsConnection,
    private readonly infra: Infrastructure,
    private readonly pool: CpuPool,
    private readonly engine: JobEngine,
    private readonly progress: ProgressReporter,
    private readonly stopWatch: JobStopWatch,
    private readonly shutdown: AbortController,
    private readonly log: Logger,
  ) {
    this.heartbeat = new Heartbeat(
      infra.workers,
      {
        id,
        name: config.name,
        version: WORKER_VERSION,
        queues: config.queues,
        threads: config.threads,
        concurrency: config.concurrency,
        heartbeatMs: config.heartbeatMs,
      },
      () => this.counters,
    );
    this.handBacks = new HandBacks(infra.state, log);
    this.claims = new ThreadClaims(config.threads, () => this.onClaimsReleased());
    this.tickMs = Math.min(config.heartbeatMs, config.ackWaitMs / 3);
  }

  private readonly heartbeat: Heartbeat;
  private readonly pullers: QueuePuller[] = [];
  private readonly handBacks: HandBacks;
  /** Hand-backs being counted (awaited before the connection closes). */
  private readonly counting = new Set<Promise<void>>();

  /** Connects to NATS, provisions streams and buckets, starts the thread pool and begins pulling. */
  static async create(config: WorkerConfig, options: WorkerOptions = {}): Promise<Worker> {
    // The id keys the worker's heartbeat entry: the name, with what a KV key may not hold replaced.
    const id = `${config.name.replace(/[^-\w]/g, '_')}-${randomUUID().slice(0, 8)}`;
    const log = (options.logger ?? createLogger('weft-worker', config.logLevel)).child({ workerId: id });
    const nc = await connectNats(config, `weft-worker ${id}`, { log });
    let pool: CpuPool | undefined;
    try {
      const infra = await provisionInfrastructure(nc, config);
      const values = new ValueStore(infra, config.inlineValueMaxBytes, config.maxValueBytes);
      const catalogue = TaskCatalogue.builtin();
      pool = CpuPool.create(config.threads);
      const shutdown = new AbortController();
      const { writer } = infra;
      const records = new JobRecords(infra.jobs, writer);
      const fileStore = openFileStore(infra, config);
      const files = createFileAccess(fileStore, config.dataRoot);
      const progress = new ProgressReporter(records, log);
      const state = new CasBucket(infra.state, writer, infra.names.stateBucket);
      // Values that tasks of a job store after it was stopped are removed once they are done.
      const stops = new JobStops(shutdown.signal, (jobId) => {
        values.discardJob(jobId).catch((err: unknown) => log.warn({ err, jobId }, 'could not remove the intermediate values of a stopped job'));
      });
      const engine = new JobEngine({
        plans: new PlanCache(infra.specs, values, catalogue, { inUse: (jobId) => stops.isActive(jobId) }),
        records,
        progress,
        results: new Results(new CasBucket(infra.results, writer, infra.names.resultsBucket), values),
        children: new ChildTracker(state),
        reduceInputs: new ReduceInputs(state, values),
        dispatcher: new Dispatcher(nc, writer, infra.names, log),
        values,
        runner: new TaskRunner(catalogue, pool, new Limiter(config.ioConcurrency), files, log, shutdown.signal),
        files,
        fileStore,
        log,
        queues: config.queues,
        stops,
      });
      // Jobs that end early (cancelled, or failed by a task) stop their tasks running here.
      const stopWatch = new JobStopWatch(stops, engine, log);
      stopWatch.listen(nc, infra.names);
      const worker = new Worker(id, config, nc, infra, pool, engine, progress, stopWatch, shutdown, log);
      // Slots are split between queues so that an idle queue cannot hold them all.
      const slotsPerQueue = Math.max(1, Math.floor(config.concurrency / config.queues.length));
      for (const queue of config.queues) {
        const consumer = await ensureQueueConsumer(infra, queue, config.ackWaitMs);
        worker.pullers.push(
          new QueuePuller(
            nc,
            infra.names.tasksStream,
            consumer,
            slotsPerQueue,
            (msg) => worker.process(msg),
            log.child({ queue }),
            (free) => worker.claims.room(free),
            {
              recreateConsumer: () => {
                // The new consumer delivers the items held here again.
                worker.lapseInFlight();
                return ensureQueueConsumer(infra, queue, config.ackWaitMs);
              },
            },
          ),
        );
      }
      await worker.heartbeat.beat();
      worker.timer = setInterval(() => worker.tick(), worker.tickMs);
      void worker.watchConnection();
      for (const puller of worker.pullers) puller.start();
      log.info({ queues: config.queues, threads: config.threads, concurrency: config.concurrency }, 'worker started');
      return worker;
    } catch (err) {
      await pool?.close().catch(() => undefined);
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  get state(): WorkerState {
    return this.stateValue;
  }

  /** Work items being processed right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Counters since start. */
  get counters(): WorkerStats {
    return { ...this.stats, inFlight: this.inFlight.size };
  }

  /**
   * Drains and stops: no new work is pulled, work in flight may finish for up to
   * `drainTimeoutMs`, anything still running then is handed back to NATS for another
   * worker, and the connection is closed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stateValue = 'draining';
    this.log.info({ inFlight: this.inFlight.size }, 'worker draining');
    await Promise.all(this.pullers.map((p) => p.stop()));
    if (this.inFlight.size > 0) {
      const drained = new Promise<void>((resolve) => (this.idle = resolve));
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.config.drainTimeoutMs).unref());
      await Promise.race([drained, timeout]);
    }
    for (const msg of this.inFlight) this.handBack(msg);
    if (this.inFlight.size > 0) this.log.warn({ handedBack: this.inFlight.size }, 'work handed back to the queue');
    this.inFlight.clear();
    this.shutdown.abort(new WorkerClosingError('the worker is shutting down'));
    clearInterval(this.timer);
    await this.progress.close();
    await this.heartbeat.remove().catch(() => undefined);
    await this.pool.close();
    await Promise.all(this.counting);
    await this.nc.drain().catch(() => undefined);
    this.stateValue = 'closed';
    this.log.info(this.counters, 'worker closed');
  }

  /**
   * While the connection is down, acknowledgement timers run on at the server: the
   * items held then may be delivered again elsewhere (see `WorkMessage.markLapsed`).
   */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.lapseInFlight();
    }
  }

  /** The items held now may be delivered again elsewhere (see `WorkMessage.markLapsed`). */
  private lapseInFlight(): void {
    for (const msg of this.inFlight) msg.markLapsed();
  }

  private tick(): void {
    for (const msg of this.inFlight) msg.working(this.config.ackWaitMs);
    this.heartbeat.beat().catch((err: unknown) => this.log.warn({ err }, 'heartbeat failed'));
    void this.stopWatch.recheck(performance.now() - this.tickMs);
  }

  /**
   * Asks the pullers for the room claims gave up. Finished map chunks waiting to
   * write their inputs with a chunk still running here hold slots too: when a thread
   * is about to want work and they hold every slot of a queue, they write now, or the
   * thread would wait for them.
   */
  private onClaimsReleased(): void {
    for (const puller of this.pullers) puller.poke();
    if (this.claims.room(1) > 0 && this.pullers.some((p) => p.freeSlots === 0)) this.engine.writeHeldInputs();
  }

  /** Gives `msg` back for redelivery as the worker closes, counted as handed back, not lost. */
  private handBack(msg: WorkMessage): void {
    msg.nak();
    const counted = this.handBacks.record(msg.info.streamSequence);
    this.counting.add(counted);
    void counted.finally(() => this.counting.delete(counted));
  }

  /** Earlier deliveries of `msg` that did not get through, not counting hand-backs of closing workers. */
  private async lostDeliveries(msg: WorkMessage): Promise<number> {
    return msg.info.deliveryCount - 1 - (await this.handBacks.count(msg.info.streamSequence));
  }

  /**
   * Fails the item's job with the error this delivery failed on when no delivery can
   * do better: the error says so (a value too large to store), or this was the last
   * delivery allowed (then with that error, not the `WORKER_LOST` its next delivery
   * would give).
   * @returns whether it did (when NATS does not answer either, the next delivery tries again)
   */
  private async failIfHopeless(msg: WorkMessage, item: WorkItem, err: unknown): Promise<boolean> {
    const permanent = err instanceof ValueTooLargeError;
    if (!permanent && msg.info.deliveryCount < this.config.maxDeliveries) return false;
    try {
      const code = err instanceof WeftError ? err.code : 'WORK_ITEM_FAILED';
      const reason = err instanceof Error ? err.message : String(err);
      let message = reason;
      if (permanent) {
        this.log.error({ err, jobId: item.jobId, kind: item.kind }, 'work item cannot succeed; failing its job');
      } else {
        // This delivery is lost too.
        const lost = (await this.lostDeliveries(msg)) + 1;
        if (lost < this.config.maxDeliveries) return false;
        this.log.error({ err, jobId: item.jobId, kind: item.kind, deliveries: lost }, 'work item failed on every delivery; failing its job');
        message = `the work item failed on each of its ${lost} deliveries, the last time with: ${reason}`;
      }
      const node = err instanceof ValueTooLargeError ? err.node : undefined;
      await this.engine.failItem(item, { code, message, ...(node ? { node } : {}) });
      return true;
    } catch (failure) {
      if (failure instanceof InvalidMessageError) {
        // The job's own record does not decode: nothing can end the job, and no
        // delivery will do better than this one.
        this.log.error({ err: failure, jobId: item.jobId, kind: item.kind }, 'the job of a hopeless work item cannot be failed; dropping the item');
        return true;
      }
      return false;
    }
  }

  private async process(msg: WorkMessage): Promise<void> {
    this.inFlight.add(msg);
    const claim = this.claims.claim();
    let item: WorkItem | undefined;
    try {
      item = parseWorkItem(msg);
      // A batch holds light tasks only (CPU-bound members get work items of their own).
      if (item.kind === 'batch') claim.release();
      // Deliveries that did not get through (a worker died running it, or NATS failed
      // it), not counting hand-backs of closing workers.
      const lost = msg.info.deliveryCount > this.config.maxDeliveries ? await this.lostDeliveries(msg) : 0;
      if (lost >= this.config.maxDeliveries) {
        await this.engine.failItem(item, new PoisonWorkItemError(lost));
      } else {
        const { ackWaitMs } = this.config;
        await this.engine.handle(item, {
          // Read again when the item sends on: it may have been delivered elsewhere meanwhile.
          get repeat() {
            return msg.repeat || msg.mayHaveLapsed(ackWaitMs);
          },
          ageMs: msg.ageMs,
          claim,
        });
      }
      // Given up first: the acknowledgement asks for more work when there is room.
      claim.release();
      if (this.inFlight.delete(msg)) msg.ack();
      this.stats.processed += 1;
    } catch (err) {
      if (err instanceof JobStoppedError) {
        // The job ended while the item's task ran: nothing is left to do for it.
        this.log.debug({ jobId: err.jobId, kind: item?.kind, status: err.status }, 'work item dropped: its job ended');
        claim.release();
        if (this.inFlight.delete(msg)) msg.ack();
        this.stats.processed += 1;
        return;
      }
      this.stats.failed += 1;
      if (!this.inFlight.delete(msg)) return;
      if (item === undefined && err instanceof InvalidMessageError) {
        // The message is no work item: no delivery can do better. (Stored state that
        // does not decode is another matter: a newer worker, say, may read it.)
        this.log.error({ err, subject: msg.subject }, 'dropping invalid work item');
        msg.term();
      } else if (this.shutdown.signal.aborted) {
        this.handBack(msg);
      } else if (item !== undefined && (await this.failIfHopeless(msg, item, err))) {
        msg.ack();
      } else {
        // Counted as a delivery lost: an item that never gets through is failed in the end.
        const delayMs = retryDelayMs(msg.info.deliveryCount);
        this.log.warn({ err, jobId: item?.jobId, kind: item?.kind, delayMs }, 'work item failed; it will be redelivered');
        msg.nak(delayMs);
      }
    } finally {
      claim.release();
      if (this.inFlight.size === 0) this.idle?.();
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeWire, publishJobEvent, type JetStreamWriter, type JobEvent, type Logger, type ResourceNames, type WorkItem } from '@weft/shared';
import { REPEAT_HEADER } from '../work-message.js';

/** Headers of work items sent again. */
const REPEATED: Readonly<Record<string, string>> = Object.freeze({ [REPEAT_HEADER]: '1' });

/** Publishes at most this many messages at once, to bound memory on huge fan-outs. */
const PUBLISH_WINDOW = 512;

/** Delay before a job event that failed is published again, in milliseconds; it doubles each time. */
const EVENT_RETRY_DELAY_MS = 100;
/** Longest delay between two publications of a failing job event, in milliseconds. */
const EVENT_RETRY_MAX_DELAY_MS = 2000;
/** How long a job event that keeps failing is published again, in milliseconds. */
const EVENT_RETRY_FOR_MS = 30_000;

/** A work item and the queue it runs on. */
export interface Dispatch {
  readonly queue: string;
  readonly item: WorkItem;
}

/** Message id of a work item: the same item published twice is stored once (within the duplicate window). */
export function workItemId(item: WorkItem): string {
  switch (item.kind) {
    case 'start':
      return `${item.jobId}:start`;
    case 'task':
      return `${item.jobId}:task:${item.node}`;
    case 'batch':
      return `${item.jobId}:batch:${item.node}:${item.index}`;
    case 'chunk':
      return `${item.jobId}:chunk:${item.node}:${item.index}`;
    case 'reduce':
      return `${item.jobId}:reduce:${item.node}:${item.level}:${item.index}`;
  }
}

/** Publishes work items and job events to JetStream, deduplicated by deterministic message ids. */
export class Dispatcher {
  constructor(
    readonly nc: NatsConnection,
    readonly writer: JetStreamWriter,
    readonly names: ResourceNames,
    private readonly log: Logger,
  ) {}

  /**
   * Publishes every dispatch and waits until JetStream has stored them all.
   * @param repeat whether they are sent by an item that may have been processed
   *   before: they may have been too, and say so (see `WorkMessage.repeat`). Asked
   *   for each window of publications: the answer may turn true meanwhile.
   */
  async dispatch(dispatches: readonly Dispatch[], repeat: () => boolean = () => false): Promise<void> {
    for (let i = 0; i < dispatches.length; i += PUBLISH_WINDOW) {
      const headers = repeat() ? REPEATED : undefined;
      await Promise.all(
        dispatches.slice(i, i + PUBLISH_WINDOW).map(({ queue, item }) =>
          this.writer.publish(this.names.taskSubject(queue), encodeWire(item), { msgId: workItemId(item), ...(headers ? { headers } : {}) }),
        ),
      );
    }
  }

  /**
   * Publishes a job event under a deterministic id, so a repeat is stored once (see
   * `publishJobEvent`: an end event also reaches the requests waiting on the job, and
   * the workers running its tasks when it ended early).
   */
  event(event: JobEvent, id: string): Promise<void> {
    return publishJobEvent(this, event, id);
  }

  /**
   * Publishes a job event (see {@link event}), and publishes it again under the same
   * id while that fails, for up to {@link EVENT_RETRY_FOR_MS} or until `signal` aborts
   * (then throwing its reason). For events that a repeat of their work item would not
   * send in full: a `tasks` event, once its tasks' results are stored (see
   * `JobHandle.events`), and a success's end event with the completions of the
   * job's only task.
   */
  async eventWithRetries(event: JobEvent, id: string, signal: AbortSignal): Promise<void> {
    const giveUpAt = performance.now() + EVENT_RETRY_FOR_MS;
    for (let delayMs = EVENT_RETRY_DELAY_MS; ; delayMs = Math.min(2 * delayMs, EVENT_RETRY_MAX_DELAY_MS)) {
      try {
        return await this.event(event, id);
      } catch (err) {
        signal.throwIfAborted();
        if (performance.now() + delayMs > giveUpAt) throw err;
        this.log.warn({ err, jobId: event.jobId, eventId: id, delayMs }, 'a job event was not stored; publishing it again');
        await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        signal.throwIfAborted();
      }
    }
  }
}

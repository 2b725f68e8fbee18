import type { NatsConnection } from '@nats-io/transport-node';
import { encodeWire, publishJobEvent, type JetStreamWriter, type JobEvent, type ResourceNames, type WorkItem } from '@weft/shared';
import { REPEAT_HEADER } from '../work-message.js';

/** Headers of work items sent again. */
const REPEATED: Readonly<Record<string, string>> = Object.freeze({ [REPEAT_HEADER]: '1' });

/** Publishes at most this many messages at once, to bound memory on huge fan-outs. */
const PUBLISH_WINDOW = 512;

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
  ) {}

  /**
   * Publishes every dispatch and waits until JetStream has stored them all.
   * @param repeat whether they are sent by an item that may have been processed
   *   before: they may have been too, and say so (see `WorkMessage.repeat`)
   */
  async dispatch(dispatches: readonly Dispatch[], repeat = false): Promise<void> {
    const headers = repeat ? REPEATED : undefined;
    for (let i = 0; i < dispatches.length; i += PUBLISH_WINDOW) {
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
}

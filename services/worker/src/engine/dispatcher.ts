import type { NatsConnection } from '@nats-io/transport-node';
import { encodeWire, type JetStreamWriter, type JobEvent, type ResourceNames, type WorkItem } from '@weft/shared';
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
    private readonly nc: NatsConnection,
    private readonly writer: JetStreamWriter,
    private readonly names: ResourceNames,
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
   * Publishes a job event under a deterministic id, so a repeat is stored once. A
   * job's end event also goes to the job's end subject, for the requests waiting on it.
   */
  async event(event: JobEvent, id: string): Promise<void> {
    const data = encodeWire(event);
    const stored = this.writer.publish(this.names.eventSubject(event.jobId), data, { msgId: id });
    if (event.type === 'job') {
      try {
        this.nc.publish(this.names.jobEndSubject(event.jobId), data);
      } catch {
        // Waiting requests then find the record when their wait ends; the stored event reports the failure.
      }
    }
    await stored;
  }
}

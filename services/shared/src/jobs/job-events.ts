/**
 * Publishing job events: every event is stored in the events stream under a
 * deterministic message id; a job's end event also goes out on core NATS subjects
 * for those who wait on the job, and for workers when the job ended early.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeWire } from '../json-codec.js';
import type { JobEvent } from '../messages.js';
import type { ResourceNames } from '../names.js';
import type { JetStreamWriter } from '../nats/jetstream-writer.js';

/** What publishing job events needs. */
export interface JobEventPublisher {
  readonly nc: NatsConnection;
  readonly writer: JetStreamWriter;
  readonly names: ResourceNames;
}

/** Message id of a job's end event: published again (by a repeated work item, or a repeated cancel), it is stored once. */
export function jobEndEventId(jobId: string): string {
  return `${jobId}:end`;
}

/**
 * Publishes `event` under message id `id` and waits until JetStream has stored it.
 * A job's end event also goes to the job's end subject, for the requests waiting on
 * it, and, unless the job succeeded, to its stop subject, for the workers still
 * running its tasks.
 */
export async function publishJobEvent(publisher: JobEventPublisher, event: JobEvent, id: string): Promise<void> {
  const { nc, writer, names } = publisher;
  const data = encodeWire(event);
  const stored = writer.publish(names.eventSubject(event.jobId), data, { msgId: id });
  if (event.type === 'job') {
    try {
      nc.publish(names.jobEndSubject(event.jobId), data);
      if (event.status !== 'succeeded') nc.publish(names.jobStopSubject(event.jobId), data);
    } catch {
      // Waiting requests then find the record when their wait ends, and workers when
      // they next read it; the stored event reports the failure.
    }
  }
  await stored;
}

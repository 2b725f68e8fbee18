import { AckPolicy } from '@nats-io/jetstream';
import type { Infrastructure } from '@weft/shared';

/**
 * Creates the durable pull consumer of `queue`, shared by every worker of the queue,
 * or updates it to these settings: explicit acknowledgements within `ackWaitMs`,
 * deliveries unlimited (a worker counts them and fails what never gets through), and
 * no cap on acknowledgements pending (each worker pulls only what it has room for).
 * @returns the consumer's name
 */
export async function ensureQueueConsumer(infra: Pick<Infrastructure, 'jsm' | 'names'>, queue: string, ackWaitMs: number): Promise<string> {
  const { jsm, names } = infra;
  const config = {
    durable_name: names.consumerName(queue),
    filter_subject: names.taskSubject(queue),
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * 1_000_000,
    max_deliver: -1,
    max_ack_pending: -1,
  };
  try {
    await jsm.consumers.info(names.tasksStream, config.durable_name);
    await jsm.consumers.update(names.tasksStream, config.durable_name, config);
  } catch (err) {
    if (!(err instanceof Error && /consumer not found/i.test(err.message))) throw err;
    await jsm.consumers.add(names.tasksStream, config);
  }
  return config.durable_name;
}

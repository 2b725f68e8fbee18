import type { Msg, NatsConnection } from '@nats-io/transport-node';

/** Messages arriving on a subject, read one by one in arrival order. */
export interface MessageCollector {
  /** Every message so far. */
  readonly messages: readonly Msg[];
  /** The first message not yet read, once it is there. */
  next(): Promise<Msg>;
  close(): void;
}

/** Subscribes to `subject` (and waits until the server knows) and collects what arrives. */
export async function collectMessages(nc: NatsConnection, subject: string): Promise<MessageCollector> {
  const messages: Msg[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  const subscription = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      messages.push(msg);
      wake?.();
    },
  });
  await nc.flush();
  return {
    messages,
    async next() {
      while (messages.length === read) await new Promise<void>((resolve) => (wake = resolve));
      return messages[read++] as Msg;
    },
    close: () => subscription.unsubscribe(),
  };
}

import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@weft/shared';

/** How long one pull request waits for messages, in milliseconds. */
const PULL_EXPIRES_MS = 5000;

/**
 * Pulls work items from one queue's durable consumer, never more than there are
 * free slots: a message is only requested when the worker can start it right away,
 * so nothing waits in a local buffer while its ack timer runs.
 *
 * While the worker is busy anyway (tasks queue for its threads), a pull waits until
 * half the slots are free: each pull opens a subscription and costs several times
 * what a message does.
 */
export class QueuePuller {
  private free: number;
  private readonly batch: number;
  private wake: (() => void) | undefined;
  private current: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    slots: number,
    private readonly onMessage: (msg: JsMsg) => Promise<void>,
    private readonly log: Logger,
    /** Whether the worker has work waiting for it already (then free slots are gathered before pulling). */
    private readonly busy: () => boolean = () => false,
  ) {
    this.free = slots;
    this.batch = Math.max(1, Math.ceil(slots / 2));
  }

  /** Starts pulling in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops pulling new messages; messages being processed are not affected. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.current?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.free === 0 || (this.free < this.batch && this.busy())) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        this.current = await this.consumer.fetch({ max_messages: this.free, expires: PULL_EXPIRES_MS });
        for await (const msg of this.current) {
          this.free -= 1;
          void this.onMessage(msg).finally(() => this.release());
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) break;
        this.log.warn({ err }, 'pull failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      } finally {
        this.current = undefined;
      }
    }
  }

  private release(): void {
    this.free += 1;
    this.wake?.();
  }
}

import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@weft/shared';

/** How long one pull request waits for messages, in milliseconds. */
const PULL_EXPIRES_MS = 5000;

/**
 * Pulls work items from one queue's durable consumer, never more than there are
 * free slots, and never more than the worker has room for (see `room`): work the
 * worker cannot start soon stays in the stream, where any worker can take it.
 */
export class QueuePuller {
  private free: number;
  private wake: (() => void) | undefined;
  private current: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    slots: number,
    private readonly onMessage: (msg: JsMsg) => Promise<void>,
    private readonly log: Logger,
    /**
     * How many of the `free` slots the worker wants filled now; asked before every
     * pull, and again after {@link poke}. @default all of them
     */
    private readonly room: (free: number) => number = (free) => free,
  ) {
    this.free = slots;
  }

  /** Starts pulling in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Asks `room` again: the worker may want more work than when the puller last asked. */
  poke(): void {
    this.wake?.();
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
      const wanted = Math.min(this.free, this.room(this.free));
      if (wanted <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        this.current = await this.consumer.fetch({ max_messages: wanted, expires: PULL_EXPIRES_MS });
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

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, type Consumer, type FetchOptions, type JsMsg } from '@nats-io/jetstream';
import { createLogger } from '@weft/shared';
import { QueuePuller } from '../src/queue-puller.js';
import { startHarness, type Harness } from './harness.js';

/** Resolves once `condition` holds, checking every 10 ms for up to 5 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('queue puller', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  it('never holds more messages than slots, and pulls for several freed slots at once', async () => {
    const { jsm, js, names } = h.infra;
    const subject = names.taskSubject('puller');
    await jsm.consumers.add(names.tasksStream, { durable_name: 'puller-test', filter_subject: subject, ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 8; i++) await js.publish(subject, new TextEncoder().encode(String(i)));

    // The real consumer, with its pulls counted.
    const real = await js.consumers.get(names.tasksStream, 'puller-test');
    const pulls: number[] = [];
    const consumer = {
      fetch: (options?: FetchOptions) => {
        pulls.push(options?.max_messages ?? 0);
        return real.fetch(options);
      },
    } as unknown as Consumer;

    const held: { msg: JsMsg; done: () => void }[] = [];
    let maxHeld = 0;
    const puller = new QueuePuller(
      consumer,
      4,
      (msg) =>
        new Promise<void>((resolve) => {
          held.push({ msg, done: resolve });
          maxHeld = Math.max(maxHeld, held.length);
        }),
      createLogger('test', 'silent'),
    );
    const finish = (count: number) => {
      for (const { msg, done } of held.splice(0, count)) {
        msg.ack();
        done();
      }
    };
    puller.start();
    try {
      await until(() => held.length === 4, 'the first four messages');
      assert.deepEqual(pulls, [4]);

      // One free slot of four: no pull yet, the three in flight keep the worker busy.
      finish(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(held.length, 3);
      assert.deepEqual(pulls, [4]);

      // Two free slots: one pull for both.
      finish(1);
      await until(() => held.length === 4, 'two more messages');
      assert.deepEqual(pulls, [4, 2]);

      finish(4);
      await until(() => held.length === 2, 'the last two messages');
      finish(2);
      assert.equal(maxHeld, 4);
    } finally {
      await puller.stop();
    }
  });
});

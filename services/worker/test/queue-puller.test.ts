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

  /** A puller with four slots on a consumer of its own holding `count` messages; its pulls are counted. */
  async function setUp(name: string, count: number, busy: () => boolean) {
    const { jsm, js, names } = h.infra;
    const subject = names.taskSubject(name);
    await jsm.consumers.add(names.tasksStream, { durable_name: name, filter_subject: subject, ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < count; i++) await js.publish(subject, new TextEncoder().encode(String(i)));
    // The real consumer, with its pulls counted.
    const real = await js.consumers.get(names.tasksStream, name);
    const pulls: number[] = [];
    const consumer = {
      fetch: (options?: FetchOptions) => {
        pulls.push(options?.max_messages ?? 0);
        return real.fetch(options);
      },
    } as unknown as Consumer;
    const held: { msg: JsMsg; done: () => void }[] = [];
    const state = { maxHeld: 0 };
    const puller = new QueuePuller(
      consumer,
      4,
      (msg) =>
        new Promise<void>((resolve) => {
          held.push({ msg, done: resolve });
          state.maxHeld = Math.max(state.maxHeld, held.length);
        }),
      createLogger('test', 'silent'),
      busy,
    );
    const finish = (n: number) => {
      for (const { msg, done } of held.splice(0, n)) {
        msg.ack();
        done();
      }
    };
    return { puller, pulls, held, state, finish };
  }

  it('never holds more messages than slots, and gathers freed slots while the worker is busy', async () => {
    const { puller, pulls, held, state, finish } = await setUp('puller-busy', 8, () => true);
    puller.start();
    try {
      await until(() => held.length === 4, 'the first four messages');
      assert.deepEqual(pulls, [4]);

      // One free slot of four while busy: no pull yet.
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
      assert.equal(state.maxHeld, 4);
    } finally {
      await puller.stop();
    }
  });

  it('pulls for a single free slot when the worker is not busy', async () => {
    const { puller, pulls, held, state, finish } = await setUp('puller-idle', 8, () => false);
    puller.start();
    try {
      await until(() => held.length === 4, 'the first four messages');
      finish(1);
      await until(() => held.length === 4, 'one more message');
      assert.deepEqual(pulls, [4, 1]);
      finish(4);
      await until(() => held.length === 3, 'the last three messages');
      finish(3);
      assert.equal(state.maxHeld, 4);
    } finally {
      await puller.stop();
    }
  });
});

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
  async function setUp(name: string, count: number, room?: (free: number) => number) {
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
      room,
    );
    const finish = (n: number) => {
      for (const { msg, done } of held.splice(0, n)) {
        msg.ack();
        done();
      }
    };
    return { puller, pulls, held, state, finish };
  }

  it('pulls only as many messages as the worker has room for, and asks again when poked', async () => {
    // Room as a worker computes it: a cap on the messages held, whatever the free slots.
    let cap = 2;
    const { puller, pulls, held, state, finish } = await setUp('puller-room', 8, (free) => Math.min(free, cap - held.length));
    puller.start();
    const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
    try {
      await until(() => held.length === 2, 'the first two messages');
      await settle();
      assert.equal(held.length, 2);
      assert.deepEqual(pulls, [2]);

      // A finished message frees a slot, but the worker has no room for it: no pull.
      cap = 1;
      finish(1);
      await settle();
      assert.equal(held.length, 1);
      assert.deepEqual(pulls, [2]);

      // More room, and three slots free: once poked, the puller takes what the room allows.
      cap = 3;
      puller.poke();
      await until(() => held.length === 3, 'two more messages');
      await settle();
      assert.deepEqual(pulls, [2, 2]);

      cap = 4;
      finish(3);
      await until(() => held.length === 4, 'the last four messages');
      finish(4);
      assert.deepEqual(pulls, [2, 2, 4]);
      assert.equal(state.maxHeld, 4);
    } finally {
      await puller.stop();
    }
  });

  it('fills every free slot by default, one at a time if need be', async () => {
    const { puller, pulls, held, state, finish } = await setUp('puller-free', 8);
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

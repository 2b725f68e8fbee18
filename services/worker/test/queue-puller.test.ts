import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { createLogger } from '@weft/shared';
import { until } from '@weft/shared/testing';
import { QueuePuller, type QueuePullerOptions } from '../src/queue-puller.js';
import type { WorkMessage } from '../src/work-message.js';
import { startHarness, type Harness } from './harness.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
const decoder = new TextDecoder();

describe('queue puller', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  /**
   * A puller with four slots on a consumer of its own (with `consumer` settings on top)
   * holding `count` messages. What is asked of JetStream is recorded from the wire:
   * pull requests, and the messages asked for along with acknowledgements.
   */
  async function setUp(
    name: string,
    count: number,
    room?: (held: number) => number,
    options?: QueuePullerOptions,
    consumer: Partial<ConsumerConfig> = {},
  ) {
    const { jsm, js, names } = h.infra;
    const subject = names.taskSubject(name);
    await jsm.consumers.add(names.tasksStream, { durable_name: name, filter_subject: subject, ack_policy: AckPolicy.Explicit, ...consumer });
    for (let i = 0; i < count; i++) await js.publish(subject, new TextEncoder().encode(String(i)));
    const pulls: number[] = [];
    const withAcks: number[] = [];
    const batchOf = (data: Uint8Array) => (JSON.parse(decoder.decode(data).replace(/^\+NXT /, '')) as { batch: number }).batch;
    const requests = h.nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${names.tasksStream}.${name}`, {
      callback: (_err, msg) => {
        pulls.push(batchOf(msg.data));
      },
    });
    const acks = h.nc.subscribe(`$JS.ACK.${names.tasksStream}.${name}.>`, {
      callback: (_err, msg) => {
        if (decoder.decode(msg.data).startsWith('+NXT')) withAcks.push(batchOf(msg.data));
      },
    });
    await h.nc.flush();
    const held: { msg: WorkMessage; done: () => void }[] = [];
    const state = { maxHeld: 0 };
    const puller = new QueuePuller(
      h.nc,
      names.tasksStream,
      name,
      4,
      (msg) =>
        new Promise<void>((resolve) => {
          held.push({ msg, done: resolve });
          state.maxHeld = Math.max(state.maxHeld, held.length);
        }),
      createLogger('test', 'silent'),
      room ? (free) => Math.min(free, room(held.length)) : undefined,
      options,
    );
    const finish = (n: number) => {
      for (const { msg, done } of held.splice(0, n)) {
        msg.ack();
        done();
      }
    };
    const stop = async () => {
      await puller.stop();
      requests.unsubscribe();
      acks.unsubscribe();
    };
    return { puller, pulls, withAcks, held, state, finish, stop };
  }

  it('pulls only as many messages as the worker has room for, and asks again when poked', async () => {
    // Room as a worker computes it: a cap on the messages held, whatever the free slots.
    let cap = 2;
    const { puller, pulls, withAcks, held, state, finish, stop } = await setUp('puller-room', 8, (n) => cap - n);
    puller.start();
    try {
      await until('the first two messages', () => held.length === 2);
      await settle();
      assert.equal(held.length, 2);
      assert.deepEqual(pulls, [2]);

      // A finished message frees a slot, but the worker has no room for it: nothing asked.
      cap = 1;
      finish(1);
      await settle();
      assert.equal(held.length, 1);
      assert.deepEqual(pulls, [2]);
      assert.deepEqual(withAcks, []);

      // More room, and three slots free: once poked, the puller asks for what the room allows.
      cap = 3;
      puller.poke();
      await until('two more messages', () => held.length === 3);
      await settle();
      assert.deepEqual(pulls, [2, 2]);

      // Finished messages ask for the next ones with their acknowledgements.
      cap = 4;
      finish(3);
      await until('the last four messages', () => held.length === 4);
      assert.equal(held.length, 4);
      assert.equal(state.maxHeld, 4);
      finish(4);
    } finally {
      await stop();
    }
  });

  it('fills every free slot by default, asking for the next message with each acknowledgement', async () => {
    const { puller, pulls, withAcks, held, state, finish, stop } = await setUp('puller-free', 8);
    puller.start();
    try {
      await until('the first four messages', () => held.length === 4);
      finish(1);
      await until('one more message', () => held.length === 4);
      assert.deepEqual(pulls, [4]);
      assert.deepEqual(withAcks, [1]);
      finish(4);
      await until('the last three messages', () => held.length === 3);
      finish(3);
      assert.equal(state.maxHeld, 4);
    } finally {
      await stop();
    }
  });

  it('asks again when its requests expire, and tells redeliveries apart', async () => {
    const { puller, pulls, held, stop } = await setUp('puller-expiry', 0, undefined, { pullExpiresMs: 1000 });
    puller.start();
    try {
      await until('a second request after the first expired', () => pulls.length === 2);
      assert.deepEqual(pulls, [4, 4]);

      const { js, names } = h.infra;
      await js.publish(names.taskSubject('puller-expiry'), new TextEncoder().encode('late'));
      await until('the message published after the first request expired', () => held.length === 1);
      const first = held.shift();
      assert.equal(first?.msg.string(), 'late');
      assert.deepEqual([first?.msg.info.deliveryCount, first?.msg.info.redelivered], [1, false]);
      first?.msg.nak();
      first?.done();

      await until('the message again', () => held.length === 1);
      const again = held[0];
      assert.deepEqual([again?.msg.info.deliveryCount, again?.msg.info.redelivered], [2, true]);
      again?.msg.ack();
      again?.done();
      held.length = 0;
    } finally {
      await stop();
    }
  });

  it('keeps asking, now and then, while its consumer is gone, and resumes once it is back', async () => {
    const { puller, pulls, held, finish, stop } = await setUp('puller-gone', 0, undefined, { pullExpiresMs: 1000 });
    const { jsm, js, names } = h.infra;
    puller.start();
    try {
      await until('the first request', () => pulls.length === 1);
      // The waiting request dies with the consumer, unanswered: after the expiry and
      // a grace period (3 s) the puller asks again, and finds no consumer.
      await jsm.consumers.delete(names.tasksStream, 'puller-gone');
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert.ok(pulls.length >= 2 && pulls.length <= 5, `${pulls.length} requests`);

      const subject = names.taskSubject('puller-gone');
      await jsm.consumers.add(names.tasksStream, { durable_name: 'puller-gone', filter_subject: subject, ack_policy: AckPolicy.Explicit });
      await js.publish(subject, new TextEncoder().encode('back'));
      await until('the message published once the consumer was back', () => held.length === 1);
      finish(1);
    } finally {
      await stop();
    }
  });

  it('creates its consumer again when a request finds it gone', async () => {
    const name = 'puller-recreated';
    const { jsm, js, names } = h.infra;
    const subject = names.taskSubject(name);
    let recreated = 0;
    const recreateConsumer = async () => {
      recreated += 1;
      await jsm.consumers.add(names.tasksStream, { durable_name: name, filter_subject: subject, ack_policy: AckPolicy.Explicit });
    };
    const { puller, pulls, held, finish, stop } = await setUp(name, 0, undefined, { pullExpiresMs: 1000, recreateConsumer });
    puller.start();
    try {
      await until('the first request', () => pulls.length === 1);
      await jsm.consumers.delete(names.tasksStream, name);
      await js.publish(subject, new TextEncoder().encode('sent while the consumer was gone'));
      await until('the message, once the consumer was created again', () => held.length === 1, 15_000);
      assert.equal(recreated, 1);
      finish(1);
    } finally {
      await stop();
    }
  });

  it('waits a moment before asking again when a request is refused', async () => {
    const name = 'puller-refused';
    const { puller, pulls, stop } = await setUp(name, 0, undefined, undefined, { max_waiting: 1 });
    // Someone else's request takes the consumer's only waiting place for 10 s (the
    // server drops a request nobody listens for to make room).
    const other = h.nc.subscribe(`_INBOX.${name}`);
    h.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${h.infra.names.tasksStream}.${name}`, JSON.stringify({ batch: 1, expires: 10e9 }), {
      reply: `_INBOX.${name}`,
    });
    await until('the other request', () => pulls.length === 1);
    puller.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // Refused at once each time (409): about one request a second, not one per refusal.
      const mine = pulls.length - 1;
      assert.ok(mine >= 2 && mine <= 4, `${mine} requests`);
    } finally {
      await stop();
      other.unsubscribe();
    }
  });

  // Last in this file: it restarts the server under the other tests' harness.
  it('asks again at once when the connection comes back after the server restarted', async () => {
    const { puller, pulls, held, finish, stop } = await setUp('puller-restart', 0);
    puller.start();
    try {
      await until('the first request', () => pulls.length === 1);
      // The request dies with the server; it would expire only after 5 s.
      await h.server.kill();
      await h.server.restart();
      await until('a request after the reconnect', () => pulls.length === 2);

      const { js, names } = h.infra;
      await js.publish(names.taskSubject('puller-restart'), new TextEncoder().encode('after'));
      await until('the message published after the restart', () => held.length === 1);
      finish(1);
    } finally {
      await stop();
    }
  });
});

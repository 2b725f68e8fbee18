import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { createLogger, encodeWire, newJobId, type JobRecord } from '@weft/shared';
import { JobWaiter } from '../src/jobs/job-waiter.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

function record(id: string, status: JobRecord['status']): JobRecord {
  return { id, status, kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } };
}

describe('waiting for a job', () => {
  let env: TestEnv;
  let waiter: JobWaiter;
  before(async () => {
    env = await startTestEnv({ worker: false });
    waiter = new JobWaiter(env.infra, createLogger('test', 'silent'));
  });
  after(async () => env.close());

  /** Writes a record the way a worker does: compare-and-set, acknowledged to `reply`. */
  function write(r: JobRecord, expectedRevision: number, reply: string): void {
    const expect = headers();
    expect.set('Nats-Expected-Last-Subject-Sequence', String(expectedRevision));
    env.nc.publish(env.infra.names.jobRecordSubject(r.id), encodeWire(r), { reply, headers: expect });
  }

  it('sees the end in the terminal record write once JetStream acknowledges it, without an end event', async () => {
    const id = newJobId();
    const watch = waiter.watch(id);
    try {
      await env.nc.flush();
      const done = { ...record(id, 'succeeded'), result: { v: 10 } };
      write(done, 0, env.infra.names.recordAckSubject(id, 'w1', 1));
      assert.deepEqual(await watch.terminalWithin(5000), done);
    } finally {
      watch.close();
    }
  });

  it('does not take a write that JetStream refused', async () => {
    const id = newJobId();
    const revision = await env.infra.jobs.create(id, encodeWire(record(id, 'running')));
    const watch = waiter.watch(id);
    try {
      await env.nc.flush();
      // Expects no record, but there is one: refused.
      write(record(id, 'failed'), 0, env.infra.names.recordAckSubject(id, 'w1', 2));
      assert.equal(await watch.terminalWithin(300), undefined);
      // The same write on the current revision is stored.
      write(record(id, 'failed'), revision, env.infra.names.recordAckSubject(id, 'w1', 3));
      assert.equal((await watch.terminalWithin(5000))?.status, 'failed');
    } finally {
      watch.close();
    }
  });

  it('does not take a write whose acknowledgement goes elsewhere', async () => {
    const id = newJobId();
    const watch = waiter.watch(id);
    try {
      await env.nc.flush();
      write(record(id, 'succeeded'), 0, `_INBOX.${id}`);
      assert.equal(await watch.terminalWithin(300), undefined);
      // Stored all the same: a plain read finds it.
      assert.equal((await watch.read())?.status, 'succeeded');
    } finally {
      watch.close();
    }
  });

  it("ends a closed watch's subscriptions together with the next watch's, or soon after", async () => {
    // The real connection, with the subjects of ended subscriptions recorded.
    const ended: string[] = [];
    const nc = new Proxy(env.nc, {
      get(target, property) {
        if (property !== 'subscribe') {
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        }
        return (subject: string, options?: Parameters<NatsConnection['subscribe']>[1]): Subscription => {
          const subscription = target.subscribe(subject, options);
          const unsubscribe = subscription.unsubscribe.bind(subscription);
          subscription.unsubscribe = (max?: number) => {
            ended.push(subject);
            unsubscribe(max);
          };
          return subscription;
        };
      },
    });
    const own = new JobWaiter({ ...env.infra, nc }, createLogger('test', 'silent'));
    const first = own.watch(newJobId());
    first.close();
    first.close();
    assert.equal(ended.length, 0, 'a closed watch lingers');
    const second = own.watch(newJobId());
    assert.equal(ended.length, 3, 'ended as the next watch subscribes');
    second.close();
    const deadline = Date.now() + 2000;
    while (ended.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(ended.length, 6, 'ended soon after when no watch follows');
  });
});

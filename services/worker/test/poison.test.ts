import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy } from '@nats-io/jetstream';
import { encodeWire, prepareJob, storeJobSpec, TaskCatalogue } from '@weft/shared';
import { startHarness, type Harness } from './harness.js';

describe('a work item that never gets through', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  it('fails its job with a readable record once its deliveries are spent', async () => {
    const { jsm, js, names } = h.infra;
    const durable = names.consumerName('default');
    await jsm.consumers.add(names.tasksStream, {
      durable_name: durable,
      filter_subject: names.taskSubject('default'),
      ack_policy: AckPolicy.Explicit,
      ack_wait: 5_000_000_000,
      max_deliver: -1,
      max_ack_pending: -1,
    });
    const id = await h.submit({ task: 'add', args: [1, 2] });
    // As workers that took it and died would leave it: delivered three times, never acknowledged.
    const consumer = await js.consumers.get(names.tasksStream, durable);
    for (let i = 1; i <= 3; i++) {
      const msg = await consumer.next({ expires: 5000 });
      assert.equal(msg?.info.deliveryCount, i);
      msg?.nak();
    }
    await h.startWorker({ name: 'poisoned', maxDeliveries: 2 });
    const job = await h.waitForJob(id, 20_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'WORKER_LOST');
    assert.match(job.error?.message ?? '', /delivered 3 times/);
  });

  it('fails its job with the error it failed on each time, at its last delivery', async () => {
    // A spec the workers cannot plan, as one submitted to a newer API might be.
    const job = await prepareJob({ task: 'add', args: [1, 2] }, TaskCatalogue.builtin(), { maxNodes: 10, maxDepth: 4, maxChunks: 10 });
    const spec = await storeJobSpec(h.values, { ...job, spec: { task: 'no-such-task' } });
    const start = { v: 1, kind: 'start', jobId: job.id, record: job.record, spec };
    await h.infra.writer.publish(h.infra.names.taskSubject('unplannable'), encodeWire(start), { msgId: `${job.id}:start` });
    await h.startWorker({ name: 'planner', queues: ['unplannable'], maxDeliveries: 2 });
    const failed = await h.waitForJob(job.id, 20_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'UNKNOWN_TASK');
    assert.match(failed.error?.message ?? '', /failed on each of its 2 deliveries, the last time with: .*no-such-task/);
  });
});

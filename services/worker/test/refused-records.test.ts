import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '../src/index.js';
import { startHarness, type Harness } from './harness.js';

describe('job records that NATS refuses', () => {
  let h: Harness;
  let worker: Worker;
  before(async () => {
    h = await startHarness();
    worker = await h.startWorker({ name: 'refused' });
  });
  after(async () => h.close());

  /** Makes the job records' stream refuse messages larger than `bytes` until the returned function is called. */
  async function limitRecords(bytes: number): Promise<() => Promise<void>> {
    const { jsm, names } = h.infra;
    const stream = `KV_${names.jobsBucket}`;
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...config, max_msg_size: bytes });
    return async () => {
      await jsm.streams.update(stream, config);
    };
  }

  it('delivers a batch again when its failing member cannot fail the job, and fails the job then', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const failed = worker.counters.failed;
    // The failed record, with the task's 4,000-character message, does not fit.
    let restore: (() => Promise<void>) | undefined = await limitRecords(2048);
    try {
      const id = await h.submit({ group: [{ task: 'fail', args: ['x'.repeat(4000)] }, { task: 'sleep', args: [500, 'slept'] }] });
      const deadline = Date.now() + 20_000;
      while (worker.counters.failed === failed) {
        assert.ok(Date.now() < deadline, 'the batch did not fail');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await restore();
      restore = undefined;
      const job = await h.waitForJob(id, 20_000);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.node, '/group/0');
      assert.match(job.error?.message ?? '', /x{4000}/);
      assert.deepEqual(unhandled, [], 'a rejection went unhandled');
    } finally {
      await restore?.();
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

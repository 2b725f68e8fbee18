import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Worker } from '../src/index.js';
import { startHarness, type Harness } from './harness.js';

describe('values larger than a worker stores', () => {
  let h: Harness;
  let worker: Worker;
  before(async () => {
    h = await startHarness();
    worker = await h.startWorker({ name: 'limited', maxValueBytes: 100_000 });
  });
  after(async () => h.close());

  // The squares of 0..19,999 take about 190 kB of JSON. (Values kept inline, up to
  // 128 KiB by default, are not counted against the limit.)
  const big = { task: 'squares', args: [{ start: 0, end: 20_000 }] };

  const pair = { group: [{ task: 'echo', args: ['x'.repeat(70_000)] }, { task: 'echo', args: ['y'.repeat(70_000)] }] };
  // Each names the node whose value it is, and its task when it is one.
  for (const [what, spec, node, task] of [
    ['the result of a job', big, '', 'squares'],
    ['the value of a group member', { group: [{ task: 'add', args: [1, 2] }, big] }, '/group/1', 'squares'],
    ['the list of a group', pair, '', undefined],
    ['the list of a group in a chain', { chain: [pair, { task: 'echo' }] }, '/chain/0', undefined],
  ] as const) {
    it(`fails the job at once, as VALUE_TOO_LARGE, for ${what}`, async () => {
      const failed = worker.counters.failed;
      const job = await h.waitForJob(await h.submit(spec), 20_000);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.code, 'VALUE_TOO_LARGE', JSON.stringify(job.error));
      assert.equal(job.error?.node, node);
      assert.equal(job.error?.task, task);
      assert.match(job.error?.message ?? '', /larger than the 100000 bytes a stored value may take/);
      // Its item failed once, and was not delivered again.
      assert.equal(worker.counters.failed, failed + 1);
    });
  }

  it('stores a value within the limit', async () => {
    const job = await h.waitForJob(await h.submit({ task: 'squares', args: [{ start: 0, end: 5000 }] }));
    assert.equal(job.status, 'succeeded');
    assert.equal((job.value as number[]).length, 5000);
  });
});

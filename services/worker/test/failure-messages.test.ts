import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeWire, MAX_REPORTED_ISSUES, newJobId } from '@weft/shared';
import type { Worker } from '../src/index.js';
import { MAX_ERROR_MESSAGE_CHARS } from '../src/engine/job-endings.js';
import { startHarness, type Harness } from './harness.js';

describe('failures that say a lot, and state that does not decode', () => {
  let h: Harness;
  let worker: Worker;
  before(async () => {
    h = await startHarness();
    worker = await h.startWorker({ name: 'failing', maxDeliveries: 2 });
  });
  after(async () => h.close());

  it('fails a job whose task throws megabytes of message at once, keeping the start of it', async () => {
    const failed = worker.counters.failed;
    const id = await h.submit({ task: 'fail', args: ['x'.repeat(3_000_000)] });
    const job = await h.waitForJob(id, 20_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'TASK_FAILED');
    const message = job.error?.message ?? '';
    assert.match(message, /^task "fail" at \/ failed after 1 attempt\(s\): x+… \(\d+ more characters\)$/);
    assert.ok(message.length < MAX_ERROR_MESSAGE_CHARS + 64, `${message.length} characters`);
    // No delivery of it failed, and its end was published.
    assert.equal(worker.counters.failed, failed);
    const end = (await h.events(id)).at(-1);
    assert.ok(end?.type === 'job', 'the end was published');
    assert.equal(end.status, 'failed');
  });

  it('names the first few of thousands of invalid arguments found at run time', async () => {
    // `echo` hands 30,000 numbers to `word-count`, which wants text or partial results.
    const id = await h.submit({ chain: [{ task: 'echo', args: [Array.from({ length: 30_000 }, (_, i) => i)] }, { task: 'word-count' }] });
    const job = await h.waitForJob(id, 20_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'INVALID_TASK_ARGS');
    assert.equal(job.error?.node, '/chain/1');
    const message = job.error?.message ?? '';
    assert.equal(message.match(/\/0\/\d+: /g)?.length, MAX_REPORTED_ISSUES, message);
    assert.match(message, new RegExp(`; and ${30_000 - MAX_REPORTED_ISSUES} more$`));
  });

  it('drops, at its last delivery, the work of a job whose very record does not decode', async () => {
    const jobId = newJobId();
    await h.infra.jobs.put(jobId, JSON.stringify({ spoilt: true }));
    const { writer, names, jsm } = h.infra;
    await writer.publish(names.taskSubject('default'), encodeWire({ v: 1, kind: 'task', jobId, node: 'r' }));
    // Nothing can fail that job: its item must not come back for ever.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const info = await jsm.streams.info(names.tasksStream, { subjects_filter: names.taskSubject('default') });
      if ((info.state.subjects?.[names.taskSubject('default')] ?? 0) === 0) break;
      assert.ok(Date.now() < deadline, 'the work item is still in its queue');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('fails, rather than drops, the work of a job whose stored state does not decode', async () => {
    // The quick member's result is spoilt while the slow one runs: the slow one cannot
    // collect the group's values on any delivery.
    const id = await h.submit({
      group: [{ task: 'count-primes', args: [{ start: 0, end: 10 }] }, { task: 'count-primes', args: [{ start: 0, end: 8_000_000 }] }],
    });
    const key = `${id}.r.0`;
    const deadline = Date.now() + 10_000;
    while ((await h.infra.results.get(key))?.operation !== 'PUT') {
      assert.ok(Date.now() < deadline, 'the quick member has no result');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal((await h.record(id))?.status, 'running', 'the slow member is still running');
    await h.infra.results.put(key, JSON.stringify({ spoilt: true }));
    const job = await h.waitForJob(id, 30_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'INVALID_MESSAGE');
    assert.match(job.error?.message ?? '', /failed on each of its 2 deliveries/);
  });
});

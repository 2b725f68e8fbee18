import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PRIMES_BELOW_8M, startHarness, type Harness } from './harness.js';

describe('a worker closing with work it cannot finish in time', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());


  /** Closes a worker of `queue` while it runs `spec`'s task, then lets another worker finish the job. */
  async function closeMidTask(queue: string, spec: Record<string, unknown>, threads: number) {
    const leaving = await h.startWorker({ name: `${queue}-leaving`, queues: [queue], threads, drainTimeoutMs: 100 });
    const id = await h.submit({ ...spec, queue });
    while ((await h.record(id))?.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 10));
    // Let the task start on the worker before it is told to stop.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await leaving.close();
    // The task was stopped, not judged: the job waits for another worker.
    assert.equal((await h.record(id))?.status, 'running');
    await h.startWorker({ name: `${queue}-staying`, queues: [queue], threads });
    return h.waitForJob(id, 30_000);
  }

  it('hands a light task back: the job does not fail, and another worker runs it', async () => {
    const job = await closeMidTask('light-handback', { task: 'sleep', args: [1000, 'slept'] }, 1);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, 'slept');
  });

  it('does not count hand-backs as deliveries to workers that died', async () => {
    const queue = 'many-handbacks';
    const id = await h.submit({ task: 'sleep', args: [1000, 'slept at last'], queue });
    // Three workers in a row close while running it; with at most two deliveries lost
    // allowed, counting those would fail the job as poison.
    for (let i = 0; i < 3; i++) {
      // One slot: no pull request of the closing worker is left waiting at the server
      // (with one left waiting, nats-server 2.9 starts the item's delivery count over).
      const leaving = await h.startWorker({ name: `${queue}-${i}`, queues: [queue], threads: 1, concurrency: 1, drainTimeoutMs: 100, maxDeliveries: 2 });
      const running = Date.now();
      while (leaving.inFlightCount === 0) {
        assert.ok(Date.now() - running < 20_000, 'the task did not come back');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await leaving.close();
    }
    await h.startWorker({ name: `${queue}-last`, queues: [queue], threads: 1, maxDeliveries: 2 });
    const job = await h.waitForJob(id, 30_000);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, 'slept at last');
  });

  it('hands a CPU-bound task back the same way', async () => {
    const job = await closeMidTask('cpu-handback', { task: 'count-primes', args: [{ start: 0, end: 8_000_000 }] }, 1);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, PRIMES_BELOW_8M);
  });
});

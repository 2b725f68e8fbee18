import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';
import { spawnWorker, waitForLog } from './worker-process.js';

describe('worker processes killed and stopped mid-job', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  const env = () => ({
    WEFT_NATS_URL: h.server.url,
    WEFT_PREFIX: h.prefix,
    WEFT_THREADS: '2',
    WEFT_ACK_WAIT_MS: '2000',
    WEFT_HEARTBEAT_MS: '500',
  });

  it('redelivers the work of a SIGKILLed worker and still gets the exact result', async () => {
    const first = spawnWorker({ ...env(), WEFT_WORKER_NAME: 'doomed' });
    await waitForLog(first, 'worker started');
    const id = await h.submit({
      mapReduce: {
        input: { range: { start: 0, end: 3_000_000 } },
        chunks: 30,
        fanIn: 4,
        map: { task: 'count-primes' },
        reduce: { task: 'sum' },
      },
    });
    // Kill once it is busy with chunks (some done, some in flight), as their events
    // tell: they are stored as each chunk ends (progress is written only a few times a second).
    const deadline = Date.now() + 30_000;
    while ((await h.completions(id)).size < 3) {
      assert.ok(Date.now() < deadline, 'the worker did not get going');
      await new Promise((r) => setTimeout(r, 10));
    }
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    // Still to finish: what the dead worker held comes back to the next one.
    assert.equal((await h.record(id))?.status, 'running');
    const second = spawnWorker({ ...env(), WEFT_WORKER_NAME: 'survivor' });
    try {
      const job = await h.waitForJob(id, 60_000);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.value, 216816);
      // Chunks the dead worker ran may run again, but each counts once.
      const counts = await h.completions(id);
      assert.equal(counts.size, job.progress.total);
      assert.deepEqual([...counts].filter(([, n]) => n !== 1), []);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  });

  it('drains on SIGTERM: finishes the task in flight and exits 0', async () => {
    const worker = spawnWorker({ ...env(), WEFT_WORKER_NAME: 'drainer' });
    await waitForLog(worker, 'worker started');
    const id = await h.submit({ task: 'sleep', args: [1500, 'done sleeping'] });
    for (;;) {
      const entry = await h.infra.jobs.get(id);
      if (entry?.operation === 'PUT' && entry.json<{ status: string }>().status === 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    // Running means the job was expanded; give the task itself a moment to be pulled.
    await new Promise((r) => setTimeout(r, 300));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    const job = await h.waitForJob(id, 1000);
    assert.equal(job.value, 'done sleeping', worker.output());
    assert.match(worker.output(), /worker draining/);
  });
});

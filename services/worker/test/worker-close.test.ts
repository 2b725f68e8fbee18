import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeWire, JobRecordSchema, parseMessage, type JobRecord } from '@weft/shared';
import { startHarness, type Harness } from './harness.js';

/** Primes below 8,000,000. */
const PRIMES_BELOW_8M = 539_777;

describe('a worker closing with work it cannot finish in time', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  const record = async (id: string): Promise<JobRecord | undefined> => {
    const entry = await h.infra.jobs.get(id);
    return entry?.operation === 'PUT' ? parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record') : undefined;
  };

  /** Closes a worker of `queue` while it runs `spec`'s task, then lets another worker finish the job. */
  async function closeMidTask(queue: string, spec: Record<string, unknown>, threads: number) {
    const leaving = await h.startWorker({ name: `${queue}-leaving`, queues: [queue], threads, drainTimeoutMs: 100 });
    const id = await h.submit({ ...spec, queue });
    while ((await record(id))?.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 10));
    // Let the task start on the worker before it is told to stop.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await leaving.close();
    // The task was stopped, not judged: the job waits for another worker.
    assert.equal((await record(id))?.status, 'running');
    await h.startWorker({ name: `${queue}-staying`, queues: [queue], threads });
    return h.waitForJob(id, 30_000);
  }

  it('hands a light task back: the job does not fail, and another worker runs it', async () => {
    const job = await closeMidTask('light-handback', { task: 'sleep', args: [1000, 'slept'] }, 1);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, 'slept');
  });

  it('hands a CPU-bound task back the same way', async () => {
    const job = await closeMidTask('cpu-handback', { task: 'count-primes', args: [{ start: 0, end: 8_000_000 }] }, 1);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, PRIMES_BELOW_8M);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cancelJob, decodeWire, encodeWire, isWrongLastSequence, JobRecordSchema, parseMessage } from '@weft/shared';
import { until } from '@weft/shared/testing';
import type { Worker } from '../src/index.js';
import { JobStops } from '../src/engine/job-stops.js';
import { startHarness, type Harness } from './harness.js';

/** A `count-primes` range that takes hours: a task that only ends when it is stopped. */
const ENDLESS_RANGE = { start: 0, end: 4_000_000_000 };

describe('jobs that end before their tasks do', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  /** Submits `spec` on `worker`'s queue and waits until the worker holds its work and the job runs. */
  async function running(worker: Worker, spec: Record<string, unknown>): Promise<string> {
    const id = await h.submit({ ...spec, queue: worker.config.queues[0] });
    await until('the job runs', async () => worker.inFlightCount > 0 && (await h.record(id))?.status === 'running');
    // Let the task get going (on its thread, for a CPU-bound one).
    await new Promise((resolve) => setTimeout(resolve, 200));
    return id;
  }

  it('aborts a cancelled CPU-bound task on its thread, and the pool goes on with a new thread', async () => {
    const worker = await h.startWorker({ name: 'cpu-cancel', queues: ['cpu-cancel'], threads: 1 });
    const id = await running(worker, { task: 'count-primes', args: [ENDLESS_RANGE] });
    const { record: cancelled } = await cancelJob(h.infra, id, { reason: 'enough' });
    assert.equal(cancelled.status, 'cancelled');
    await until('the worker lets go of the task', () => worker.inFlightCount === 0);
    assert.deepEqual(await h.completions(id), new Map());
    assert.deepEqual((await h.record(id))?.error, { code: 'JOB_CANCELLED', message: 'cancelled: enough' });

    const next = await h.submit({ task: 'count-primes', args: [{ start: 0, end: 100_000 }], queue: 'cpu-cancel' });
    const job = await h.waitForJob(next);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, 9592);
  });

  it('aborts a cancelled light task, and runs nothing of the job after it', async () => {
    const worker = await h.startWorker({ name: 'light-cancel', queues: ['light-cancel'], threads: 1 });
    const id = await running(worker, { chain: [{ task: 'sleep', args: [60_000] }, { task: 'add', args: [1] }] });
    await cancelJob(h.infra, id);
    await until('the worker lets go of the task', () => worker.inFlightCount === 0);
    // Nothing of the job is left in the queue (its next step would have run by then).
    await until('the queue is empty', async () => {
      const consumer = await h.infra.jsm.consumers.info(h.infra.names.tasksStream, h.infra.names.consumerName('light-cancel'));
      return consumer.num_pending + consumer.num_ack_pending === 0;
    });
    assert.deepEqual(await h.completions(id), new Map());
    assert.equal((await h.record(id))?.status, 'cancelled');
  });

  it('stops the tasks of a job its record says was cancelled, though no stop notice came', async () => {
    const worker = await h.startWorker({ name: 'silent-cancel', queues: ['silent-cancel'], threads: 1 });
    const light = await running(worker, { task: 'sleep', args: [60_000] });
    const cpu = await running(worker, { task: 'count-primes', args: [ENDLESS_RANGE] });
    // As if the API died between the cancelled record and the stop notice.
    for (const id of [light, cpu]) {
      for (;;) {
        const entry = (await h.infra.jobs.get(id)) ?? assert.fail('no record');
        const record = parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record');
        const cancelled = { ...record, status: 'cancelled' as const, finishedAt: new Date().toISOString(), error: { code: 'JOB_CANCELLED', message: 'cancelled' } };
        try {
          await h.infra.jobs.update(id, encodeWire(cancelled), entry.revision);
          break;
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
        }
      }
    }
    await until('the worker lets go of both tasks', () => worker.inFlightCount === 0);
    for (const id of [light, cpu]) assert.deepEqual(await h.completions(id), new Map());
  });

  it('does not start a job cancelled while it waited in the queue', async () => {
    const id = await h.submit({ task: 'sleep', args: [60_000, 'ran'], queue: 'late-start' });
    await cancelJob(h.infra, id);
    // Long enough in the queue to be checked before it starts (a quick one is not).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const worker = await h.startWorker({ name: 'late-start', queues: ['late-start'], threads: 1 });
    await until('the start item is taken', () => worker.counters.processed === 1);
    assert.equal(worker.inFlightCount, 0);
    assert.deepEqual(await h.completions(id), new Map());
    assert.equal((await h.record(id))?.status, 'cancelled');
  });

  it('fails a job at its first failing task and stops the others, light or CPU-bound', async () => {
    const worker = await h.startWorker({ name: 'fail-fast', queues: ['fail-fast'], threads: 1 });
    for (const long of [{ task: 'sleep', args: [60_000] }, { task: 'count-primes', args: [ENDLESS_RANGE] }]) {
      const id = await h.submit({ group: [long, { task: 'fail', args: ['boom'], retries: 0 }], queue: 'fail-fast' });
      const job = await h.waitForJob(id, 15_000);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.task, 'fail');
      assert.equal(job.error?.node, '/group/1');
      await until(`the worker lets go of ${long.task}`, () => worker.inFlightCount === 0);
    }
  });

  it('leaves a job alone that ends as it should', async () => {
    const worker = await h.startWorker({ name: 'no-stop', queues: ['no-stop'], threads: 1 });
    const id = await h.submit({ group: [{ task: 'sleep', args: [300, 'a'] }, { task: 'add', args: [1, 2] }], queue: 'no-stop' });
    const job = await h.waitForJob(id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.value, ['a', 3]);
    await until('the worker is idle', () => worker.inFlightCount === 0);
  });
});

describe('JobStops', () => {
  it('reports once, when the items held at a stop let go, that a stopped job is idle here', () => {
    const idle: string[] = [];
    const stops = new JobStops(new AbortController().signal, (jobId) => idle.push(jobId));
    const first = stops.hold('j1');
    const second = stops.hold('j1');
    stops.stop('j1', 'failed');
    assert.ok(first.signal.aborted);
    first.release();
    assert.deepEqual(idle, []);
    second.release();
    second.release();
    assert.deepEqual(idle, ['j1']);
    // Items of the job that come later are dropped at once: no report for each.
    const later = stops.hold('j1');
    assert.ok(later.signal.aborted);
    later.release();
    // Nor for a job stopped with nothing of it held here, or one that ends as it should.
    stops.stop('j2', 'cancelled');
    stops.hold('j3').release();
    assert.deepEqual(idle, ['j1']);
  });
});

/**
 * End to end, on one local stack: processes killed in the middle of a job. The
 * supervisor restarts them (as Kubernetes would) and the jobs still finish exactly.
 */
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonOf, isAlive, waitFor, type Job, type Stack } from './stack.js';
import { onStack } from './suite.js';

const TEST_TIMEOUT_MS = 120_000;

/** The primes below 20,000,000 (π(2·10^7)). */
const PRIMES_BELOW_20M = 1_270_607;

describe('e2e: faults on the local stack', { timeout: 300_000 }, () => {
  onStack({ testTimeoutMs: TEST_TIMEOUT_MS }, ({ stack: current, test }) => {
    let stack: Stack;
    before(() => {
      stack = current();
    });

    /** Polls the job until `accept` holds; fails at once if the job finishes first. */
    async function whileRunning(id: string, what: string, accept: (job: Job) => boolean): Promise<Job> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const job = await stack.getJob(id);
        if (job.status === 'succeeded' || job.status === 'failed') {
          assert.fail(`the job finished (${job.status}) before ${what}: it is too short for this test`);
        }
        if (accept(job)) return job;
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(job)}`);
        await sleep(25);
      }
    }

    test('a worker SIGKILLed mid-job: the CPU-heavy map-reduce still gives exactly the right count', async () => {
      // Counting primes below 4,000,000 (283146) takes ~0.6 s here: over before a worker
      // can be killed. Below 20,000,000 it is a few seconds of CPU on every worker thread.
      const response = await stack.submit({
        mapReduce: {
          input: { range: { start: 0, end: 20_000_000 } },
          chunks: 100,
          map: { task: 'count-primes' },
          reduce: { task: 'sum' },
        },
      });
      assert.equal(response.status, 202, response.text);
      const { id } = jsonOf<Job>(response);

      const progressing = await whileRunning(id, 'progress.done > 0', (job) => job.status === 'running' && job.progress.done > 0);
      assert.equal(progressing.progress.total, 108);
      assert.ok(progressing.progress.done < progressing.progress.total);

      const victim = stack.state().workers.find((worker) => worker.name === 'worker-1');
      assert.ok(victim?.pid != null, `worker-1 has no pid in stack.json: ${JSON.stringify(stack.state())}`);
      const victimPid = victim.pid;
      stack.kill(victimPid);
      const killedAt = Date.now();
      await waitFor(`worker-1 (pid ${victimPid}) to die`, () => !isAlive(victimPid), { timeoutMs: 5000, intervalMs: 20 });

      const during = await stack.getJob(id);
      assert.equal(during.status, 'running', 'the job must still be running when the worker dies');

      // The supervisor brings worker-1 back under a new pid.
      const restartedPid = await waitFor(
        'the supervisor to restart worker-1',
        () => {
          const pid = stack.state().workers.find((worker) => worker.name === 'worker-1')?.pid;
          return pid !== undefined && pid !== null && pid !== victimPid ? pid : undefined;
        },
        { timeoutMs: 20_000 },
      );

      const job = await stack.getJob(id, 90);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.result, PRIMES_BELOW_20M);
      assert.deepEqual(job.progress, { done: 108, total: 108 });
      assert.ok(Date.parse(job.finishedAt ?? '') > killedAt, `finishedAt ${job.finishedAt} is before the kill`);

      // Both workers heartbeat again: the new worker-1 and worker-2; the dead one has gone stale.
      const live = await stack.waitForWorkers(30_000);
      assert.deepEqual(live.map((worker) => worker.name), ['worker-1', 'worker-2']);
      assert.equal(live.find((worker) => worker.name === 'worker-1')?.pid, restartedPid);

      // The stack still runs jobs.
      const { job: next } = await stack.run({ task: 'add', args: [4, 6] });
      assert.equal(next.result, 10);
    });

    test('the API SIGKILLed mid-job: once restarted, GET ?wait returns the finished job', async () => {
      const response = await stack.submit({
        group: [
          { task: 'sleep', args: [2500, 'a'] },
          { task: 'sleep', args: [2500, 'b'] },
          { task: 'sleep', args: [2500, 'c'] },
        ],
      });
      assert.equal(response.status, 202, response.text);
      const { id } = jsonOf<Job>(response);
      await whileRunning(id, 'the job to start', (job) => job.status === 'running');

      const apiPid = stack.state().api.pid;
      assert.ok(apiPid !== null, 'the API has a pid in stack.json');
      stack.kill(apiPid);
      const killedAt = Date.now();
      await waitFor(`the API (pid ${apiPid}) to die`, () => !isAlive(apiPid), { timeoutMs: 5000, intervalMs: 20 });

      // The supervisor restarts it under a new pid; it becomes ready again.
      const newPid = await waitFor(
        'the supervisor to restart the API',
        () => {
          const pid = stack.state().api.pid;
          return pid !== null && pid !== apiPid ? pid : undefined;
        },
        { timeoutMs: 20_000 },
      );
      assert.ok(isAlive(newPid));
      await stack.waitUntilReady(30_000);

      const waited = await stack.request('GET', `/v1/jobs/${id}?wait=30`);
      assert.equal(waited.status, 200, waited.text);
      const job = jsonOf<Job>(waited);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.result, ['a', 'b', 'c']);
      assert.deepEqual(job.progress, { done: 3, total: 3 });
      assert.ok(Date.parse(job.finishedAt ?? '') > killedAt, `finishedAt ${job.finishedAt} is before the kill`);

      // Plain GETs and the listing work too.
      const again = await stack.getJob(id);
      assert.equal(again.status, 'succeeded');
      assert.deepEqual(again.result, ['a', 'b', 'c']);
      const listed = jsonOf<{ jobs: Job[] }>(await stack.request('GET', '/v1/jobs?limit=500')).jobs;
      assert.equal(listed.find((entry) => entry.id === id)?.status, 'succeeded');

      // And new jobs run.
      const { job: next } = await stack.run({ chain: [{ task: 'add', args: [4, 6] }, { task: 'multiply', args: [2] }] });
      assert.equal(next.result, 20);
    });
  });
});

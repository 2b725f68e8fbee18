/**
 * End to end, on one local stack (nats-server, the API, 2 workers as processes):
 * tasks, chains, groups, chords, map-reduce, nesting and failures, all over HTTP.
 */
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { jsonOf, type Job, type Stack } from './stack.js';
import { onStack } from './suite.js';

const TEST_TIMEOUT_MS = 60_000;

describe('e2e: jobs on the local stack', { timeout: 180_000 }, () => {
  onStack({ testTimeoutMs: TEST_TIMEOUT_MS }, ({ stack: current, test }) => {
    let stack: Stack;
    before(() => {
      stack = current();
    });

    test('answers its probes and serves the catalogue and the OpenAPI document', async () => {
      for (const probe of ['/healthz', '/readyz']) {
        const response = await stack.request('GET', probe);
        assert.equal(response.status, 200, `${probe}: ${response.text}`);
        assert.deepEqual(jsonOf(response), { status: 'ok' });
      }
      const tasks = jsonOf<{ tasks: { name: string; cpuBound: boolean }[] }>(await stack.request('GET', '/v1/tasks'));
      const names = tasks.tasks.map((task) => task.name);
      for (const name of ['add', 'multiply', 'sum', 'squares', 'count-primes', 'sleep', 'fail', 'echo']) {
        assert.ok(names.includes(name), `GET /v1/tasks lacks ${name}: ${names.join(', ')}`);
      }
      const openapi = await stack.request('GET', '/openapi.json');
      assert.equal(openapi.status, 200);
      const paths = Object.keys(jsonOf<{ paths: Record<string, unknown> }>(openapi).paths);
      for (const route of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/tasks', '/v1/workers']) {
        assert.ok(paths.includes(route), `the OpenAPI document lacks ${route}: ${paths.join(', ')}`);
      }
      // (Polled: a listing may show a worker twice, see the listing test below.)
      const workers = await stack.waitForWorkers(10_000);
      assert.deepEqual(
        workers.map((worker) => worker.name),
        ['worker-1', 'worker-2'],
      );
    });

    test('single task with ?wait=30: 200 with the result', async () => {
      const response = await stack.submit({ task: 'add', args: [4, 6] }, '?wait=30');
      assert.equal(response.status, 200, response.text);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const job = jsonOf<Job>(response);
      assert.match(job.id, /^[0-9a-z]{26}$/);
      assert.equal(response.headers.get('location'), `/v1/jobs/${job.id}`);
      assert.equal(job.status, 'succeeded');
      assert.equal(job.kind, 'task');
      assert.equal(job.result, 10);
      assert.deepEqual(job.progress, { done: 1, total: 1 });
      assert.equal(job.error, undefined);
      assert.deepEqual(job.links, { self: `/v1/jobs/${job.id}`, events: `/v1/jobs/${job.id}/events` });
    });

    test('single task without wait: 202 with Location, then GET ?wait=30 has the result', async () => {
      const response = await stack.submit({ task: 'add', args: [4, 6] });
      assert.equal(response.status, 202, response.text);
      const accepted = jsonOf<Job>(response);
      assert.deepEqual(Object.keys(accepted).sort(), ['createdAt', 'id', 'links', 'progress', 'status']);
      assert.equal(accepted.status, 'queued');
      assert.deepEqual(accepted.progress, { done: 0, total: 1 });
      const location = response.headers.get('location');
      assert.equal(location, `/v1/jobs/${accepted.id}`);

      const waited = await stack.request('GET', `${location}?wait=30`);
      assert.equal(waited.status, 200, waited.text);
      const job = jsonOf<Job>(waited);
      assert.equal(job.id, accepted.id);
      assert.equal(job.status, 'succeeded');
      assert.equal(job.result, 10);
      assert.deepEqual(job.progress, { done: 1, total: 1 });
    });

    test('chain add → multiply: 20', async () => {
      const { job } = await stack.run({
        chain: [
          { task: 'add', args: [4, 6] },
          { task: 'multiply', args: [2] },
        ],
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.kind, 'chain');
      assert.equal(job.result, 20);
      assert.deepEqual(job.progress, { done: 2, total: 2 });
    });

    test('group: the list of member values in member order, not completion order', async () => {
      const { job } = await stack.run({
        group: [
          // A separate work item that finishes last...
          { chain: [{ task: 'sleep', args: [400, 'slow'] }] },
          // ...and light members batched together, one of them slow too.
          { task: 'sleep', args: [200, 'medium'] },
          { task: 'sleep', args: [0, 'fast'] },
          { task: 'add', args: [2, 3] },
          { task: 'multiply', args: [3, 4] },
          { task: 'echo', args: ['x', 1] },
        ],
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.kind, 'group');
      assert.deepEqual(job.result, ['slow', 'medium', 'fast', 5, 12, ['x', 1]]);
      assert.deepEqual(job.progress, { done: 6, total: 6 });

      // Enough members for a two-level aggregation tree.
      const wide = await stack.run({ group: Array.from({ length: 200 }, (_, i) => ({ task: 'add', args: [i, i] })) });
      assert.equal(wide.job.status, 'succeeded', JSON.stringify(wide.job.error));
      assert.deepEqual(
        wide.job.result,
        Array.from({ length: 200 }, (_, i) => 2 * i),
      );
      assert.deepEqual(wide.job.progress, { done: 200, total: 200 });
    });

    test('chord: header add/multiply, body sum: 15', async () => {
      const { job } = await stack.run({
        chord: {
          header: [
            { task: 'add', args: [1, 2] },
            { task: 'multiply', args: [3, 4] },
          ],
          body: { task: 'sum' },
        },
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.kind, 'chord');
      assert.equal(job.result, 15);
      assert.deepEqual(job.progress, { done: 3, total: 3 });
    });

    test('nested: a group of chains inside a chain', async () => {
      const { job } = await stack.run({
        chain: [
          {
            group: [
              { chain: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: [10] }] },
              { chain: [{ task: 'multiply', args: [2, 3] }, { task: 'add', args: [4] }] },
            ],
          },
          { task: 'sum' },
        ],
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      // [30, 10] → 40
      assert.equal(job.result, 40);
      assert.deepEqual(job.progress, { done: 5, total: 5 });
    });

    test('nested: a chain whose first step is a map-reduce', async () => {
      const { job } = await stack.run({
        chain: [
          {
            mapReduce: {
              input: { range: { start: 1, end: 11 } },
              chunkSize: 3,
              map: { task: 'squares' },
              reduce: { task: 'sum' },
            },
          },
          { task: 'add', args: [15] },
          { task: 'multiply', args: [2] },
        ],
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      // 1² + … + 10² = 385; + 15 = 400; × 2 = 800
      assert.equal(job.result, 800);
      // 4 chunks + 1 reduce step + 2 tasks
      assert.deepEqual(job.progress, { done: 7, total: 7 });
    });

    test('nested: a group of a chord, a map-reduce and a group', async () => {
      const { job } = await stack.run({
        group: [
          {
            chord: {
              header: [{ task: 'add', args: [1, 1] }, { chain: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: [3] }] }],
              body: { task: 'sum' },
            },
          },
          {
            mapReduce: {
              input: { items: [1, 2, 3, 4] },
              chunkSize: 2,
              map: { task: 'sum' },
              reduce: { task: 'sum' },
            },
          },
          { group: [{ task: 'echo', args: ['x'] }, { task: 'add', args: [2, 2] }] },
        ],
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.result, [11, 10, ['x', 4]]);
      // chord 3 + 1, map-reduce 2 chunks + 1 reduce step, group 2
      assert.deepEqual(job.progress, { done: 9, total: 9 });
    });

    test('map-reduce 1..1000, chunks of 100, squares then sum: 333833500', async () => {
      const { job } = await stack.run({
        mapReduce: {
          input: { range: { start: 1, end: 1001 } },
          chunkSize: 100,
          map: { task: 'squares' },
          reduce: { task: 'sum' },
        },
      });
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.equal(job.kind, 'mapReduce');
      assert.equal(job.result, 333_833_500);
      // 10 chunks + 1 reduce step
      assert.deepEqual(job.progress, { done: 11, total: 11 });
    });

    test('map-reduce 1..1,000,000 in 100 chunks: 333333833333500000, exact, as plain digits', async () => {
      const { job, response } = await stack.run(
        {
          mapReduce: {
            input: { range: { start: 1, end: 1_000_001 } },
            chunks: 100,
            map: { task: 'squares' },
            reduce: { task: 'sum' },
          },
        },
        60,
      );
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      // Beyond 2^53: JSON.parse rounds it, so look at the raw text.
      assert.match(response.text, /"result":333333833333500000[,}]/, response.text);
      assert.doesNotMatch(response.text, /"333333833333500000"/);
      // 100 chunks + 7 + 1 reduce steps (fan-in 16)
      assert.deepEqual(job.progress, { done: 108, total: 108 });

      const again = await stack.request('GET', `/v1/jobs/${job.id}?wait=30`);
      assert.equal(again.status, 200);
      assert.match(again.text, /"result":333333833333500000[,}]/, again.text);
    });

    test('a task failing every attempt: failed after 1 + 2 retries, at the root', async () => {
      const { job } = await stack.run({ task: 'fail', args: ['boom'], retries: 2, backoffMs: 50 });
      assert.equal(job.status, 'failed');
      assert.equal(job.result, undefined);
      const error = job.error;
      assert.ok(error !== undefined, 'a failed job has an error');
      assert.equal(error.code, 'TASK_FAILED');
      assert.equal(error.node, '');
      assert.equal(error.task, 'fail');
      assert.equal(error.attempts, 3);
      assert.match(error.message, /boom/);
      // Backoff 50 ms then 100 ms between the three attempts. (Measured from createdAt:
      // a job run in place by the worker that starts it is only marked running — its
      // startedAt, the origin of durationMs — after 20 ms.)
      const elapsedMs = Date.parse(job.finishedAt ?? '') - Date.parse(job.createdAt);
      assert.ok(elapsedMs >= 150, `the job took ${elapsedMs} ms, less than its backoff (150 ms)`);
    });

    test('a failing chain step is named by its JSON pointer', async () => {
      const { job } = await stack.run({
        chain: [
          { task: 'add', args: [1, 2] },
          { task: 'fail', args: ['bad step'] },
          { task: 'add', args: [1] },
        ],
      });
      assert.equal(job.status, 'failed');
      assert.equal(job.kind, 'chain');
      const error = job.error;
      assert.ok(error !== undefined, 'a failed job has an error');
      assert.equal(error.code, 'TASK_FAILED');
      assert.equal(error.node, '/chain/1');
      assert.equal(error.task, 'fail');
      assert.equal(error.attempts, 1);
      assert.match(error.message, /bad step/);
    });
  });
});

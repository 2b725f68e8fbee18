/**
 * End to end, on one local stack (nats-server, the API, 2 workers as processes):
 * tasks, chains, groups, chords, map-reduce, nesting, failures and the event stream,
 * all over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEventStream, type TimedEvent } from './sse.js';
import { jsonOf, Stack, type HttpResult, type Job } from './stack.js';

const TEST_TIMEOUT_MS = 60_000;

describe('e2e: jobs on the local stack', { timeout: 180_000 }, () => {
  let stack: Stack;
  const test = (name: string, body: () => Promise<void>): void => {
    it(name, { timeout: TEST_TIMEOUT_MS }, () => stack.diagnose(body));
  };

  before(async () => {
    stack = await Stack.start();
  });
  after(async () => {
    await stack?.stop();
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

  test('a job ?wait reports finished is stored finished: a GET right after agrees', async () => {
    // A rejected compare-and-set write of a job record is still delivered to plain
    // NATS subscribers of the record's KV subject: a waiter that trusts those messages
    // can answer with a finished record that is not (yet) stored. Writes race when a
    // worker's first write of a record meets the API's `queued` one, and when the
    // progress writes of many map chunks meet the final record's.
    const disagreements: string[] = [];
    const compare = async (id: string, answered: HttpResult, how: string): Promise<void> => {
      const job = jsonOf<Job>(answered);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      const stored = await stack.request('GET', `/v1/jobs/${id}`);
      assert.equal(stored.status, 200, stored.text);
      if (stored.text !== answered.text) {
        const now = jsonOf<Job>(stored);
        disagreements.push(
          `${id}: ${how} answered ${job.status} (progress ${job.progress.done}/${job.progress.total}), ` +
            `GET right after ${now.status} (progress ${now.progress.done}/${now.progress.total})`,
        );
      }
    };

    // A single task, submitted without wait, then waited for.
    const singles = 8;
    for (let i = 0; i < singles; i++) {
      const accepted = await stack.submit({ task: 'add', args: [4, 6] });
      assert.equal(accepted.status, 202, accepted.text);
      const { id } = jsonOf<Job>(accepted);
      const waited = await stack.request('GET', `/v1/jobs/${id}?wait=30`);
      assert.equal(waited.status, 200, waited.text);
      await compare(id, waited, 'GET ?wait=30');
    }

    // Map-reduces of 100 chunks spread over both workers, submitted with ?wait.
    const spec = {
      mapReduce: {
        input: { range: { start: 1, end: 10_001 } },
        chunks: 100,
        map: { task: 'squares' },
        reduce: { task: 'sum' },
      },
    };
    const rounds = 6;
    const parallel = 4;
    const mapReduce = async (): Promise<void> => {
      const { job, response } = await stack.run(spec);
      await compare(job.id, response, 'POST ?wait=30');
    };
    for (let round = 0; round < rounds; round++) await Promise.all(Array.from({ length: parallel }, mapReduce));

    const total = singles + rounds * parallel;
    assert.deepEqual(disagreements, [], `${disagreements.length} of ${total} jobs:\n${disagreements.join('\n')}`);
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

  test('SSE: task events arrive live, one per finished task, then the job event', async () => {
    // A chain of sleeps cannot be written (a chain passes each step's value, here a
    // string, as the first argument — the milliseconds — of the next sleep), and light
    // group members run as one batch that reports them together. Members that are
    // chains each run as their own work item and finish 300 ms apart.
    const response = await stack.submit({
      group: [
        { chain: [{ task: 'sleep', args: [300, 'a'] }] },
        { chain: [{ task: 'sleep', args: [600, 'b'] }] },
        { chain: [{ task: 'sleep', args: [900, 'c'] }] },
      ],
    });
    assert.equal(response.status, 202, response.text);
    const { id, links } = jsonOf<Job>(response);

    const stream = await readEventStream(stack.url(links.events), { timeoutMs: 30_000 });
    assert.equal(stream.status, 200, stream.body);
    assert.match(stream.contentType, /^text\/event-stream/);
    const tasks = stream.events.filter((event) => event.event === 'task');
    const ends = stream.events.filter((event) => event.event === 'job');
    assert.deepEqual(
      stream.events.map((event) => event.event),
      ['task', 'task', 'task', 'job'],
      JSON.stringify(stream.events),
    );
    const taskData = tasks.map((event) => JSON.parse(event.data) as Record<string, unknown>);
    assert.deepEqual(
      taskData.map(({ jobId, node, task, attempts, value }) => ({ jobId, node, task, attempts, value })),
      [
        { jobId: id, node: '/group/0/chain/0', task: 'sleep', attempts: 1, value: 'a' },
        { jobId: id, node: '/group/1/chain/0', task: 'sleep', attempts: 1, value: 'b' },
        { jobId: id, node: '/group/2/chain/0', task: 'sleep', attempts: 1, value: 'c' },
      ],
    );
    const end = ends[0] as TimedEvent;
    const endData = JSON.parse(end.data) as Record<string, unknown>;
    assert.equal(endData['jobId'], id);
    assert.equal(endData['status'], 'succeeded');
    assert.equal(endData['error'], undefined);

    // Live, not all at once at the end: the first task event came long before the job event.
    const [first, second, third] = tasks as [TimedEvent, TimedEvent, TimedEvent];
    const timeline = `received at +${tasks.map((e) => Math.round(e.receivedAt - stream.openedAt)).join(', +')} ms, job at +${Math.round(end.receivedAt - stream.openedAt)} ms`;
    assert.ok(end.receivedAt - first.receivedAt >= 250, `task events were not spread over time: ${timeline}`);
    assert.ok(second.receivedAt - first.receivedAt >= 100, timeline);
    assert.ok(third.receivedAt - second.receivedAt >= 100, timeline);

    // Events have increasing ids; a client resuming after the first one gets the rest.
    const ids = stream.events.map((event) => Number(event.id));
    assert.ok(
      ids.every((value, i) => Number.isInteger(value) && (i === 0 || value > (ids[i - 1] ?? 0))),
      `event ids: ${ids.join(', ')}`,
    );
    const resumed = await readEventStream(stack.url(links.events), {
      headers: { 'last-event-id': first.id ?? '' },
      timeoutMs: 10_000,
    });
    assert.deepEqual(
      resumed.events.map((event) => [event.event, event.id]),
      stream.events.slice(1).map((event) => [event.event, event.id]),
    );

    // A finished job's stream replays everything and ends.
    const replay = await readEventStream(stack.url(links.events), { timeoutMs: 10_000 });
    assert.deepEqual(
      replay.events.map((event) => [event.event, event.data]),
      stream.events.map((event) => [event.event, event.data]),
    );

    const job = await stack.getJob(id);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.result, ['a', 'b', 'c']);
  });

  test('listings name each worker and each job once, and answer promptly, while entries are being updated', async () => {
    // Heartbeats (every 500 ms) and job progress rewrite the entries being listed.
    const spec = {
      mapReduce: {
        input: { range: { start: 1, end: 1_000_001 } },
        chunks: 100,
        map: { task: 'squares' },
        reduce: { task: 'sum' },
      },
    };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await stack.submit(spec);
      assert.equal(response.status, 202, response.text);
      ids.push(jsonOf<Job>(response).id);
    }
    const problems: string[] = [];
    const twice = (list: string[]) => list.filter((id, i) => list.indexOf(id) !== i);
    const list = async <T>(path: string, key: string): Promise<T[]> => {
      try {
        const response = await stack.request('GET', path, { timeoutMs: 5000 });
        return (jsonOf<Record<string, T[]>>(response)[key] ?? []);
      } catch (err) {
        problems.push(`GET ${path} did not answer within 5 s (${(err as Error).name})`);
        return [];
      }
    };
    const listings = 100;
    for (let i = 0; i < listings; i++) {
      const [workers, jobs] = await Promise.all([
        list<{ id: string }>('/v1/workers', 'workers'),
        list<Job>('/v1/jobs?limit=500', 'jobs'),
      ]);
      const workerIds = twice(workers.map((worker) => worker.id));
      const jobIds = twice(jobs.map((job) => job.id));
      if (workerIds.length > 0) problems.push(`GET /v1/workers listed ${workerIds.join(', ')} twice`);
      if (jobIds.length > 0) problems.push(`GET /v1/jobs listed ${jobIds.join(', ')} twice`);
    }
    for (const id of ids) assert.equal((await stack.getJob(id, 60)).status, 'succeeded');
    assert.deepEqual(problems, [], `${problems.length} problems in ${2 * listings} listings:\n${problems.join('\n')}`);
  });

  test('GET /v1/jobs lists the jobs, most recent first', async () => {
    const { job } = await stack.run({ task: 'multiply', args: [6, 7] });
    assert.equal(job.result, 42);
    const response = await stack.request('GET', '/v1/jobs?limit=500');
    assert.equal(response.status, 200, response.text);
    const { jobs } = jsonOf<{ jobs: Job[] }>(response);
    assert.equal(jobs[0]?.id, job.id);
    assert.equal(jobs[0]?.status, 'succeeded');
    assert.equal(jobs[0]?.result, undefined);
    const ids = jobs.map((listed) => listed.id);
    assert.deepEqual(ids, [...ids].sort().reverse());
    const failed = jsonOf<{ jobs: Job[] }>(await stack.request('GET', '/v1/jobs?status=failed&limit=500')).jobs;
    assert.equal(failed.length, 2);
    assert.ok(failed.every((listed) => listed.status === 'failed'));
  });
});

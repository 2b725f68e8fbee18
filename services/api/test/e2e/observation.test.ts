/**
 * End to end, on one local stack: what clients observe of running jobs — waits that
 * agree with the stored state, live Server-Sent Events, and listings.
 */
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import { readEventStream, type TimedEvent } from './sse.js';
import { waitFor } from './polling.js';
import { jsonOf, type HttpResult, type Job, type Stack } from './stack.js';
import { onStack } from './suite.js';

const TEST_TIMEOUT_MS = 60_000;

describe('e2e: observing jobs on the local stack', { timeout: 180_000 }, () => {
  onStack({ testTimeoutMs: TEST_TIMEOUT_MS }, ({ stack: current, test }) => {
    let stack: Stack;
    before(() => {
      stack = current();
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

    test('cancelling a map-reduce stops its chunks on every worker at once', async () => {
      // Four chunks that would each count primes for hours keep both workers busy.
      const response = await stack.submit({
        mapReduce: { input: { range: { start: 0, end: 16_000_000_000 } }, chunks: 4, map: { task: 'count-primes' }, reduce: { task: 'sum' } },
      });
      assert.equal(response.status, 202, response.text);
      const { id } = jsonOf<Job>(response);
      await waitFor('both workers to run chunks', async () => (await stack.workers()).every((worker) => worker.inFlight > 0), {
        timeoutMs: 20_000,
      });

      const cancelled = await stack.request('POST', `/v1/jobs/${id}/cancel`);
      assert.equal(cancelled.status, 200, cancelled.text);
      assert.equal(jsonOf<Job>(cancelled).status, 'cancelled');
      await waitFor('both workers to let go of the chunks', async () => (await stack.workers()).every((worker) => worker.inFlight === 0), {
        timeoutMs: 15_000,
      });
      const job = await stack.getJob(id);
      assert.equal(job.status, 'cancelled');
      assert.equal(job.progress.done, 0);

      // The workers' threads were replaced: CPU-bound work runs as before.
      const { job: next } = await stack.run({ mapReduce: { input: { range: { start: 0, end: 100_000 } }, chunks: 4, map: { task: 'count-primes' }, reduce: { task: 'sum' } } });
      assert.equal(next.result, 9592);
    });

    test('GET /v1/jobs lists the jobs, most recent first', async () => {
      const submitted: string[] = [];
      for (const message of ['first failure', 'second failure']) {
        const { job: failed } = await stack.run({ task: 'fail', args: [message] });
        assert.equal(failed.status, 'failed');
        submitted.push(failed.id);
      }
      const { job } = await stack.run({ task: 'multiply', args: [6, 7] });
      assert.equal(job.result, 42);
      const response = await stack.request('GET', '/v1/jobs?limit=500');
      assert.equal(response.status, 200, response.text);
      const { jobs } = jsonOf<{ jobs: Job[] }>(response);
      assert.equal(jobs[0]?.id, job.id);
      assert.equal(jobs[0]?.status, 'succeeded');
      assert.equal(jobs[0]?.result, undefined);
      const ids = jobs.map((listed) => listed.id);
      assert.equal(new Set(ids).size, ids.length, 'each job once');
      // In the order they were accepted (jobs of other tests ran concurrently).
      const [first, second] = submitted.map((id) => ids.indexOf(id));
      assert.ok(second !== undefined && first !== undefined && 0 < second && second < first, `${second} then ${first}`);
      const failed = jsonOf<{ jobs: Job[] }>(await stack.request('GET', '/v1/jobs?status=failed&limit=500')).jobs;
      assert.equal(failed.length, 2);
      assert.ok(failed.every((listed) => listed.status === 'failed'));
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';

describe('job engine with real workers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker({ name: 'w1' });
    await h.startWorker({ name: 'w2' });
  });
  after(async () => h.close());

  /** Asserts that every task of the job published its completion once. */
  async function eachCompletedOnce(job: { id: string; progress: { total: number } }): Promise<void> {
    const counts = await h.completions(job.id);
    assert.equal(counts.size, job.progress.total, 'tasks that published a completion');
    assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'completions published more than once');
  }

  it('runs a single task', async () => {
    const job = await h.waitForJob(await h.submit({ task: 'add', args: [4, 6] }));
    assert.equal(job.status, 'succeeded');
    assert.equal(job.value, 10);
    await eachCompletedOnce(job);
  });

  it('records when a job started, also when it is marked running a moment later', async () => {
    const id = await h.submit({ task: 'sleep', args: [200, 'slept'] });
    let running = await h.record(id);
    while (running?.status !== 'running') {
      assert.ok(running?.status !== 'succeeded', 'never marked running');
      await new Promise((resolve) => setTimeout(resolve, 5));
      running = await h.record(id);
    }
    const job = await h.waitForJob(id);
    assert.equal(job.startedAt, running.startedAt, 'the start changed at the end');
    const tookMs = Date.parse(job.finishedAt ?? '') - Date.parse(job.startedAt ?? '');
    assert.ok(tookMs >= 200, `a job of a 200 ms task took ${tookMs} ms`);
  });

  it('passes each chain step value to the next', async () => {
    const job = await h.waitForJob(
      await h.submit({ chain: [{ task: 'add', args: [4, 6] }, { task: 'multiply', args: [2] }, { task: 'add', args: [1] }] }),
    );
    assert.equal(job.value, 21);
  });

  it('keeps group results in submission order', async () => {
    const group = Array.from({ length: 150 }, (_, i) => ({ task: 'add', args: [i, 1] }));
    const job = await h.waitForJob(await h.submit({ group }));
    assert.deepEqual(job.value, Array.from({ length: 150 }, (_, i) => i + 1));
    assert.equal(job.progress.total, 150);
    await eachCompletedOnce(job);
  });

  it('runs an empty group', async () => {
    const job = await h.waitForJob(await h.submit({ group: [] }));
    assert.deepEqual(job.value, []);
  });

  it('runs a chord: the body receives the header list', async () => {
    const job = await h.waitForJob(
      await h.submit({ chord: { header: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: [3, 4] }], body: { task: 'sum' } } }),
    );
    assert.equal(job.value, 15);
  });

  it('runs CPU-bound group members one message each and keeps order', async () => {
    const group = Array.from({ length: 70 }, (_, i) => ({ task: 'fibonacci', args: [i] }));
    const job = await h.waitForJob(await h.submit({ group }));
    const fib = [0, 1];
    for (let i = 2; i < 70; i++) fib.push((fib[i - 1] as number) + (fib[i - 2] as number));
    assert.deepEqual(job.value, fib);
  });

  it('nests groups of chains inside a chain', async () => {
    const job = await h.waitForJob(
      await h.submit({
        chain: [
          { group: [{ chain: [{ task: 'add', args: [1, 1] }, { task: 'multiply', args: [10] }] }, { task: 'add', args: [3, 4] }] },
          { task: 'sum' },
        ],
      }),
    );
    assert.equal(job.value, 27);
  });

  it('map-reduces a range: 1..1000 in chunks of 100', async () => {
    const job = await h.waitForJob(
      await h.submit({
        mapReduce: { input: { range: { start: 1, end: 1001 } }, chunkSize: 100, map: { task: 'squares' }, reduce: { task: 'sum' } },
      }),
    );
    assert.equal(job.value, 333833500);
    // Ten chunks and one reduce step.
    assert.equal(job.progress.total, 11);
    await eachCompletedOnce(job);
  });

  it('map-reduces 1..1,000,000 in 100 chunks exactly, through a reduce tree', async () => {
    const job = await h.waitForJob(
      await h.submit({
        mapReduce: {
          input: { range: { start: 1, end: 1_000_001 } },
          chunks: 100,
          fanIn: 4,
          map: { task: 'squares' },
          reduce: { task: 'sum' },
        },
      }),
      60_000,
    );
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.equal(job.value, 333333833333500000n);
  });

  it('map-reduces inline items and an empty input', async () => {
    const items = await h.waitForJob(
      await h.submit({ mapReduce: { input: { items: [1, 2, 3, 4, 5] }, chunkSize: 2, map: { task: 'sum' }, reduce: { task: 'sum' } } }),
    );
    assert.equal(items.value, 15);
    const empty = await h.waitForJob(
      await h.submit({ mapReduce: { input: { items: [] }, map: { task: 'sum' }, reduce: { task: 'sum' } } }),
    );
    assert.equal(empty.value, 0);
  });

  it('fails a map-reduce when a chunk fails while chunks of its reduce step wait for it', async () => {
    const job = await h.waitForJob(
      await h.submit({
        // Every item is a number (checked at submission); the square of 1e200 overflows when it runs.
        mapReduce: { input: { items: [1, 2, 3, 1e200, 5, 6, 7, 8] }, chunkSize: 1, map: { task: 'squares' }, reduce: { task: 'sum' } },
      }),
    );
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'TASK_PERMANENT_FAILURE');
    assert.match(job.error?.node ?? '', /#chunk\/3$/);
  });

  it('retries a failing task, then fails the job naming the node and attempts', async () => {
    const job = await h.waitForJob(
      await h.submit({ chain: [{ task: 'add', args: [1, 2] }, { task: 'fail', args: [], retries: 2, backoffMs: 10, label: 'boom' }] }),
    );
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.node, '/chain/1');
    assert.equal(job.error?.attempts, 3);
    assert.equal(job.error?.label, 'boom');
    assert.match(job.error?.message ?? '', /fail/);
  });

  it('does not retry invalid arguments discovered at run time', async () => {
    const job = await h.waitForJob(
      await h.submit({ chain: [{ task: 'echo', args: ['text'] }, { task: 'multiply', args: [2], retries: 5, backoffMs: 1000 }] }),
    );
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'INVALID_TASK_ARGS');
    assert.equal(job.error?.attempts, 1);
  });

  it('times out a task that runs too long', async () => {
    const job = await h.waitForJob(await h.submit({ task: 'sleep', args: [5000], timeoutMs: 100 }));
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'TASK_TIMEOUT');
  });

  it("starts a task's time limit when the task starts, not while it waits for its turn", async () => {
    const queue = 'one-at-a-time';
    await h.startWorker({ name: 'single-file', queues: [queue], ioConcurrency: 1 });
    // The second sleep waits 400 ms for the first: counted, it would pass its limit.
    const group = ['a', 'b'].map((text) => ({ task: 'sleep', args: [400, text], timeoutMs: 600, queue }));
    const job = await h.waitForJob(await h.submit({ group, queue }));
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.value, ['a', 'b']);
  });

  it('drops a message that holds no work item, JSON or not, instead of taking it again and again', async () => {
    const { jsm, names } = h.infra;
    const queue = 'junk';
    const worker = await h.startWorker({ name: 'junk-taker', queues: [queue] });
    for (const junk of ['this is not JSON', '{"kind": "nonsense"}']) h.nc.publish(names.taskSubject(queue), new TextEncoder().encode(junk));
    const consumer = names.consumerName(queue);
    for (let tries = 0; (await jsm.consumers.info(names.tasksStream, consumer)).ack_floor.stream_seq === 0 || worker.counters.failed < 2; tries++) {
      assert.ok(tries < 250, 'the junk was not settled');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Given a second more, a message handed back would have come again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const info = await jsm.consumers.info(names.tasksStream, consumer);
    assert.equal(info.num_redelivered, 0);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(worker.counters.failed, 2);
  });

  it('passes large values through the object store', async () => {
    // 1..60000 squared is far beyond the inline limit of 128 KiB.
    const job = await h.waitForJob(
      await h.submit({ chain: [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'sum' }] }),
    );
    assert.equal(job.value, 72001800010000);
    // The same input to a task of the pool threads (decoded there) and to one of the event loop.
    let fourthPowers = 0n;
    for (let i = 1n; i <= 60_000n; i++) fourthPowers += i ** 4n;
    const onThread = await h.waitForJob(
      await h.submit({ chain: [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'sum-of-squares' }] }),
    );
    assert.equal(onThread.value, fourthPowers);
    const onLoop = await h.waitForJob(await h.submit({ chain: [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'echo' }] }));
    assert.deepEqual(onLoop.value, Array.from({ length: 60_000 }, (_, i) => (i + 1) ** 2));
  });

  it('puts short values of many entries into task events, whether from a thread or the event loop', async () => {
    const zeros = new Array<number>(300).fill(0);
    const job = await h.waitForJob(
      await h.submit({ group: [{ chain: [{ task: 'squares', args: [zeros] }, { task: 'echo' }] }, { task: 'squares', args: [zeros] }] }),
    );
    assert.deepEqual(job.value, [zeros, zeros]);
    const values = new Map<string, unknown>();
    for (const event of await h.events(job.id)) for (const task of event.tasks ?? []) values.set(task.node, task.value);
    assert.deepEqual(Object.fromEntries(values), { '/group/0/chain/0': zeros, '/group/0/chain/1': zeros, '/group/1': zeros });
  });

  it('stores a large task value as a job result and as a group member', async () => {
    const squares = Array.from({ length: 60_000 }, (_, i) => (i + 1) ** 2);
    const single = await h.waitForJob(await h.submit({ task: 'squares', args: [{ start: 1, end: 60_001 }] }));
    assert.deepEqual(single.value, squares);
    const group = [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'squares', args: [{ start: 1, end: 3 }] }];
    const job = await h.waitForJob(await h.submit({ group }));
    assert.deepEqual(job.value, [squares, [1, 4]]);
    await eachCompletedOnce(job);
  });
});

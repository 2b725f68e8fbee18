import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeWire } from '@weft/shared';
import { PRIMES_BELOW_8M, startHarness, type Harness } from './harness.js';

describe('work a worker holds', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  it('takes no more CPU-bound work than its threads start soon; a worker started later takes the rest', async () => {
    const { jsm, names } = h.infra;
    const first = await h.startWorker({ name: 'first', threads: 1, concurrency: 8 });
    // Four CPU-bound tasks, one work item each, each longer than the worker is watched
    // (an ended task gives its claim up while its result is stored).
    const group = Array.from({ length: 4 }, () => ({ task: 'count-primes', args: [{ start: 0, end: 8_000_000 }] }));
    const id = await h.submit({ group });

    // One thread: one task running and one ready, although eight slots are free.
    let held = 0;
    let waiting = 0;
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) {
      const info = await jsm.consumers.info(names.tasksStream, names.consumerName('default'));
      held = Math.max(held, info.num_ack_pending);
      waiting = info.num_pending;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(held, 2);
    assert.ok(waiting >= 1, `${waiting} tasks left in the stream`);

    const second = await h.startWorker({ name: 'second', threads: 1 });
    const job = await h.waitForJob(id, 30_000);
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.value, [PRIMES_BELOW_8M, PRIMES_BELOW_8M, PRIMES_BELOW_8M, PRIMES_BELOW_8M]);
    // The start item and the four tasks; a worker counts an item once it has acknowledged it.
    const processed = () => first.counters.processed + second.counters.processed;
    for (let tries = 0; processed() < 5 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(processed(), 5);
    assert.ok(second.counters.processed >= 1, 'the second worker ran some of the tasks');
  });

  it('asks for more work with the acknowledgement of an item that gave its claim up, not ahead of it', async () => {
    const { jsm, names } = h.infra;
    const queue = 'acks';
    const stream = names.tasksStream;
    const consumer = names.consumerName(queue);
    // What the worker sends its consumer, in order: pull requests, and acknowledgements by stream sequence.
    const sent: string[] = [];
    const requests = h.nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, {
      callback: () => {
        sent.push('pull');
      },
    });
    const acks = h.nc.subscribe(`$JS.ACK.${stream}.${consumer}.>`, {
      callback: (_err, msg) => {
        sent.push(`${msg.string().slice(0, 4)} ${msg.subject.split('.')[5] ?? ''}`);
      },
    });
    await h.nc.flush();
    await h.startWorker({ name: 'acker', threads: 1, concurrency: 8, queues: [queue] });
    const group = Array.from({ length: 3 }, () => ({ task: 'count-primes', args: [{ start: 0, end: 100_000 }], queue }));
    const startSequence = (await jsm.streams.info(stream)).state.last_seq + 1;
    const job = await h.waitForJob(await h.submit({ group, queue }), 30_000);
    requests.unsubscribe();
    acks.unsubscribe();
    assert.equal(job.status, 'succeeded');
    // The start item holds a claim while it dispatches the tasks; its acknowledgement
    // carries the request its claim made room for.
    const startAck = sent.findIndex((entry) => entry.endsWith(` ${startSequence}`));
    assert.ok(startAck > 0, sent.join(', '));
    assert.deepEqual(sent.slice(0, startAck + 1), ['pull', `+NXT ${startSequence}`], sent.join(', '));
  });

  it('gives up the claim of a task waiting to retry, so the thread takes other work meanwhile', async () => {
    const { jsm, names } = h.infra;
    const queue = 'retrying';
    await h.startWorker({ name: 'retrier', threads: 1, concurrency: 8, queues: [queue] });
    // Times out after 100 ms, then waits 3 s before its second attempt.
    await h.submit({ task: 'count-primes', args: [{ start: 0, end: 50_000_000 }], timeoutMs: 100, retries: 1, backoffMs: 3000, queue });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Long enough that none ends while the worker is watched (an ended task gives its claim up too).
    const group = Array.from({ length: 3 }, () => ({ task: 'count-primes', args: [{ start: 0, end: 8_000_000 }], queue }));
    const id = await h.submit({ group, queue });

    // The waiting task, one of the group running and one ready: three held.
    let held = 0;
    const deadline = Date.now() + 600;
    while (Date.now() < deadline) {
      const info = await jsm.consumers.info(names.tasksStream, names.consumerName(queue));
      held = Math.max(held, info.num_ack_pending);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(held, 3);
    const job = await h.waitForJob(id, 30_000);
    assert.deepEqual(job.value, [PRIMES_BELOW_8M, PRIMES_BELOW_8M, PRIMES_BELOW_8M]);
  });

  it('lets light tasks fill every free slot', async () => {
    const { jsm, names } = h.infra;
    const queue = 'light';
    await h.startWorker({ name: 'light', threads: 1, concurrency: 6, queues: [queue] });
    const ids = await Promise.all(Array.from({ length: 6 }, () => h.submit({ task: 'sleep', args: [1000], queue })));
    let held = 0;
    const deadline = Date.now() + 800;
    while (Date.now() < deadline && held < 6) {
      held = Math.max(held, (await jsm.consumers.info(names.tasksStream, names.consumerName(queue))).num_ack_pending);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(held, 6);
    for (const id of ids) assert.equal((await h.waitForJob(id)).status, 'succeeded');
  });

  it('writes the inputs of map chunks it runs back to back together', async () => {
    const queue = 'chunks';
    // An ended task gives its claim up: the next chunk is in hand before the running one ends.
    await h.startWorker({ name: 'mapper', threads: 1, concurrency: 8, queues: [queue] });
    const chunks = 8;
    let writes = 0;
    const subscription = h.nc.subscribe(`$KV.${h.infra.names.stateBucket}.>`, {
      callback: (_err, msg) => {
        if (msg.subject.endsWith('.r1-0')) writes += 1;
      },
    });
    await h.nc.flush();
    const mapReduce = { input: { range: { start: 0, end: 800_000 } }, chunks, map: { task: 'count-primes' }, reduce: { task: 'sum' } };
    const job = await h.waitForJob(await h.submit({ mapReduce, queue }), 30_000);
    subscription.unsubscribe();
    assert.equal(job.value, 63_951);
    // One write per chunk if each went alone; a few when they wait for each other.
    assert.ok(writes >= 1 && writes <= 3, `${writes} writes of the reduce step's inputs`);
  });

  it('writes the inputs waiting for a running chunk when the next chunk needs their slot', async () => {
    const queue = 'slots';
    // Three slots: one chunk running, one ready, one finished and waiting to write with
    // the running one. A second finished chunk waiting too would leave no slot for the
    // next chunk, and the thread would run dry.
    await h.startWorker({ name: 'slots', threads: 1, concurrency: 3, queues: [queue] });
    const filled: number[] = [];
    const subscription = h.nc.subscribe(`$KV.${h.infra.names.stateBucket}.>`, {
      callback: (_err, msg) => {
        if (!msg.subject.endsWith('.r1-0')) return;
        const { parts } = decodeWire(msg.string()) as { parts: unknown[] };
        filled.push(parts.filter((part) => part !== null).length);
      },
    });
    await h.nc.flush();
    // Six chunks of about 100 ms, all inputs of one reduce step.
    const mapReduce = { input: { range: { start: 0, end: 4_800_000 } }, chunks: 6, map: { task: 'count-primes' }, reduce: { task: 'sum' } };
    const job = await h.waitForJob(await h.submit({ mapReduce, queue }), 30_000);
    subscription.unsubscribe();
    assert.equal(job.value, 335_439);
    assert.equal(filled.at(-1), 6);
    const written = filled.map((count, i) => count - (filled[i - 1] ?? 0));
    assert.ok(
      written.every((count) => count <= 2),
      `inputs written at once: ${written.join(', ')}`,
    );
  });
});

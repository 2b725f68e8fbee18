import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.js';

describe("a job's intermediate values", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker({ name: 'w1' });
    await h.startWorker({ name: 'w2' });
  });
  after(async () => h.close());

  /** Messages and objects holding values now, and the job values stream's last sequence. */
  async function stored(): Promise<{ messages: number; objects: number; lastSeq: number }> {
    const { jsm, names, blobs } = h.infra;
    const kept = (await jsm.streams.info(names.valuesStream)).state;
    const intermediate = (await jsm.streams.info(names.jobValuesStream)).state;
    const objects = (await blobs.list()).filter((o) => !o.deleted).length;
    return { messages: kept.messages + intermediate.messages, objects, lastSeq: intermediate.last_seq };
  }

  /** What `stored()` says once it equals `expected` in messages and objects (the removal follows the job's end), or after 5 s. */
  async function settled(expected: { messages: number; objects: number }): Promise<Awaited<ReturnType<typeof stored>>> {
    let now = await stored();
    for (let tries = 0; tries < 50 && (now.messages !== expected.messages || now.objects !== expected.objects); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = await stored();
    }
    return now;
  }

  /** Runs `spec` and checks that nothing it stored on the way is left once it ended. */
  async function leavesNothing(spec: unknown): Promise<Awaited<ReturnType<Harness['waitForJob']>>> {
    const before = await stored();
    const job = await h.waitForJob(await h.submit(spec), 60_000);
    const after = await settled(before);
    assert.ok(after.lastSeq > before.lastSeq, 'values were stored on the way');
    assert.deepEqual({ messages: after.messages, objects: after.objects }, { messages: before.messages, objects: before.objects });
    return job;
  }

  it('are removed when the job succeeds: messages, objects and map-reduce partials', async () => {
    // 2.4 MB of squares: an object of the blobs store, passed to the next step.
    const chained = await leavesNothing({ chain: [{ task: 'squares', args: [{ start: 1, end: 200_001 }] }, { task: 'sum' }] });
    assert.equal(chained.value, Number((200_000n * 200_001n * 400_001n) / 6n));
    // Partials of 10,000 squares each: beyond their share of the reduce step's entry.
    const reduced = await leavesNothing({ mapReduce: { input: { range: { start: 1, end: 100_001 } }, chunks: 10, map: { task: 'squares' }, reduce: { task: 'sum' } } });
    assert.equal(reduced.value, 333_338_333_350_000);
  });

  it('are removed when the job fails, and a large result is kept when it succeeds', async () => {
    const failed = await leavesNothing({ chain: [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'fail', args: ['no'] }] });
    assert.equal(failed.status, 'failed');
    const before = await stored();
    const job = await h.waitForJob(await h.submit({ chain: [{ task: 'squares', args: [{ start: 1, end: 60_001 }] }, { task: 'echo' }] }));
    assert.equal((job.value as number[]).length, 60_000);
    const after = await settled({ messages: before.messages + 1, objects: before.objects });
    assert.ok(after.lastSeq > before.lastSeq, 'the step before the result stored its value');
    assert.equal(after.messages, before.messages + 1, 'the result is kept, the step before it is not');
  });
});

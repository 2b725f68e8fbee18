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

  /** Messages and objects holding values now, and the values stream's last sequence. */
  async function stored(): Promise<{ messages: number; objects: number; lastSeq: number }> {
    const { state } = await h.infra.jsm.streams.info(h.infra.names.valuesStream);
    const objects = (await h.infra.blobs.list()).filter((o) => !o.deleted).length;
    return { messages: state.messages, objects, lastSeq: state.last_seq };
  }

  /** Runs `spec` and checks that nothing it stored on the way is left once it ended. */
  async function leavesNothing(spec: unknown): Promise<Awaited<ReturnType<Harness['waitForJob']>>> {
    const before = await stored();
    const job = await h.waitForJob(await h.submit(spec), 60_000);
    // Removed once the job has ended: a moment after its record says so.
    let after = await stored();
    for (let tries = 0; tries < 50 && (after.messages !== before.messages || after.objects !== before.objects); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await stored();
    }
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
    assert.equal((await stored()).messages, before.messages + 1, 'the result is kept, the step before it is not');
  });
});

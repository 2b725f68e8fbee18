import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedBatches } from '../src/engine/keyed-batches.js';

/** Batches that record what they ran; each batch takes `ms` milliseconds. */
function recording(ms = 0, maxHoldMs = 1000) {
  const batches: string[][] = [];
  const batcher = new KeyedBatches<string, string>(
    async (key, items) => {
      batches.push([key, ...items]);
      await sleep(ms);
      return items.map((item) => `${item}!`);
    },
    { maxHoldMs },
  );
  return { batches, batcher };
}

describe('KeyedBatches', () => {
  it('runs operations arriving during a batch as the next batch, per key', async () => {
    const { batches, batcher } = recording(20);
    const results = await Promise.all([batcher.run('k', 'a'), batcher.run('k', 'b'), batcher.run('k', 'c'), batcher.run('j', 'x')]);
    assert.deepEqual(results, ['a!', 'b!', 'c!', 'x!']);
    assert.deepEqual(batches, [['k', 'a'], ['j', 'x'], ['k', 'b', 'c']]);
  });

  it('holds operations of a key until the held ones come, and runs them together', async () => {
    const { batches, batcher } = recording();
    const first = batcher.hold('k');
    const second = batcher.hold('k');
    const a = batcher.run('k', 'a', first);
    const other = batcher.run('j', 'x');
    await sleep(20);
    assert.deepEqual(batches, [['j', 'x']], 'only the key that is not held ran');
    const b = batcher.run('k', 'b', second);
    assert.deepEqual(await Promise.all([a, b, other]), ['a!', 'b!', 'x!']);
    assert.deepEqual(batches, [['j', 'x'], ['k', 'a', 'b']]);
  });

  it('lets the operations go when every hold is released without an operation', async () => {
    const { batches, batcher } = recording();
    const first = batcher.hold('k');
    const second = batcher.hold('k');
    const a = batcher.run('k', 'a');
    first.release();
    first.release(); // idempotent: must not undo the second hold
    await sleep(20);
    assert.deepEqual(batches, [], 'the second hold still holds');
    second.release();
    assert.equal(await a, 'a!');
    assert.deepEqual(batches, [['k', 'a']]);
  });

  it('lets the operations queued go when flushed, and holds the ones queued after', async () => {
    const { batches, batcher } = recording();
    const running = batcher.hold('k');
    const a = batcher.run('k', 'a');
    const x = batcher.run('j', 'x', batcher.hold('j'));
    await sleep(20);
    assert.deepEqual(batches, [['j', 'x']]);
    batcher.flush();
    assert.equal(await a, 'a!');
    const b = batcher.run('k', 'b');
    await sleep(20);
    assert.deepEqual(batches, [['j', 'x'], ['k', 'a']], 'b waits for the hold again');
    running.release();
    assert.deepEqual(await Promise.all([b, x]), ['b!', 'x!']);
    assert.deepEqual(batches, [['j', 'x'], ['k', 'a'], ['k', 'b']]);
  });

  it('runs an operation given a hold released before', async () => {
    const { batches, batcher } = recording();
    const hold = batcher.hold('k');
    hold.release();
    assert.equal(await batcher.run('k', 'a', hold), 'a!');
    assert.deepEqual(batches, [['k', 'a']]);
  });

  it('waits for a hold at most maxHoldMs, each time', async () => {
    const { batches, batcher } = recording(0, 60);
    const forgotten = batcher.hold('k');
    for (const item of ['a', 'b']) {
      // Still held after the first: the second waits again rather than forever, or not at all.
      const started = performance.now();
      assert.equal(await batcher.run('k', item), `${item}!`);
      const waited = performance.now() - started;
      assert.ok(waited >= 55, `${item} waited ${waited} ms`);
    }
    assert.deepEqual(batches, [['k', 'a'], ['k', 'b']]);
    forgotten.release();
  });

  it('holds the batch after a running one too', async () => {
    const { batches, batcher } = recording(30);
    const a = batcher.run('k', 'a');
    await sleep(5);
    const hold = batcher.hold('k');
    const b = batcher.run('k', 'b');
    assert.equal(await a, 'a!');
    await sleep(20);
    assert.deepEqual(batches, [['k', 'a']], 'b waits for the held operation');
    const c = batcher.run('k', 'c', hold);
    assert.deepEqual(await Promise.all([b, c]), ['b!', 'c!']);
    assert.deepEqual(batches, [['k', 'a'], ['k', 'b', 'c']]);
  });
});

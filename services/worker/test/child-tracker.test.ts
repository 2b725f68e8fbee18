import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JetStreamWriter } from '@weft/shared';
import { CasBucket } from '../src/engine/cas-bucket.js';
import { ChildTracker } from '../src/engine/child-tracker.js';
import { startHarness, type Harness } from './harness.js';

describe('child tracker', () => {
  let h: Harness;
  // Two workers' trackers over the same state bucket.
  let a: ChildTracker;
  let b: ChildTracker;
  const writers: JetStreamWriter[] = [];
  before(async () => {
    h = await startHarness();
    const tracker = async () => {
      const writer = await JetStreamWriter.open(h.nc, h.infra.names);
      writers.push(writer);
      return new ChildTracker(new CasBucket(h.infra.state, writer, h.infra.names.stateBucket));
    };
    a = await tracker();
    b = await tracker();
  });
  after(async () => {
    for (const writer of writers) writer.close();
    await h.close();
  });

  /** Messages stored in the state bucket so far. */
  const stateWrites = async () => (await h.infra.jsm.streams.info(`KV_${h.infra.names.stateBucket}`)).state.last_seq;

  it('lets exactly one of many concurrent marks go on, and every repeat after that', async () => {
    const key = 'job1.g.2.0';
    const size = 40;
    const before = await stateWrites();
    const outcomes = await Promise.all(Array.from({ length: size }, (_, i) => (i % 3 === 0 ? b : a).mark(key, i, size)));
    assert.equal(outcomes.filter(Boolean).length, 1, 'one mark completes the node');
    const entry = await h.infra.state.get(key);
    assert.equal(entry?.string(), '1'.repeat(size));
    // Marks arriving while a worker writes go out together in its next write.
    const writes = (await stateWrites()) - before;
    assert.ok(writes <= size / 4, `${writes} writes for ${size} marks`);
    // A redelivered child finds the node complete and may go on.
    assert.equal(await a.mark(key, 7, size), true);
    assert.equal(await b.mark(key, 0, size), true);
  });

  it('answers false until the last child is marked', async () => {
    const key = 'job2.g.2.0';
    assert.deepEqual(await Promise.all([a.mark(key, 0, 3), a.mark(key, 1, 3)]), [false, false]);
    assert.equal(await a.mark(key, 0, 3), false, 'a repeat before completion');
    assert.equal(await b.mark(key, 2, 3), true);
  });
});

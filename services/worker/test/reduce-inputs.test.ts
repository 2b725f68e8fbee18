import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JetStreamWriter } from '@weft/shared';
import { CasBucket } from '../src/engine/cas-bucket.js';
import { ReduceInputs } from '../src/engine/reduce-inputs.js';
import { startHarness, type Harness } from './harness.js';

describe('reduce inputs shared by several workers', () => {
  let h: Harness;
  // Two workers' views of the same state bucket.
  let a: ReduceInputs;
  let b: ReduceInputs;
  const writers: JetStreamWriter[] = [];
  before(async () => {
    h = await startHarness();
    const view = async () => {
      const writer = await JetStreamWriter.open(h.nc, h.infra.names);
      writers.push(writer);
      return new ReduceInputs(new CasBucket(h.infra.state, writer, h.infra.names.stateBucket), h.values);
    };
    a = await view();
    b = await view();
  });
  after(async () => {
    for (const writer of writers) writer.close();
    await h.close();
  });

  it('completes a step once every input is there, whoever wrote last', async () => {
    const key = 'job1.mr.1.0';
    assert.equal(await a.add(key, 0, 3, 'zero'), false);
    assert.equal(await b.add(key, 1, 3, 'one'), false);
    // Written by a after b: a sees b's input and completes the step.
    assert.equal(await a.add(key, 2, 3, 'two'), true);
    assert.deepEqual(await b.load(key, 3), ['zero', 'one', 'two']);
  });

  it('reports a repeated input as complete when the others arrived meanwhile', async () => {
    const key = 'job2.mr.1.0';
    assert.equal(await a.add(key, 0, 2, 'first'), false);
    assert.equal(await b.add(key, 1, 2, 'second'), true);
    // A redelivered input counts once, and reports the step complete.
    assert.equal(await a.add(key, 0, 2, 'again'), true);
    assert.deepEqual(await a.load(key, 2), ['first', 'second']);
  });

  it('keeps every input when both workers write at the same time', async () => {
    const key = 'job3.mr.1.0';
    const size = 16;
    const results = await Promise.all(
      Array.from({ length: size }, (_, i) => (i % 2 === 0 ? a : b).add(key, i, size, i * 10)),
    );
    assert.equal(results.filter(Boolean).length, 1, 'exactly one input goes on to the reduce step');
    assert.deepEqual(await a.load(key, size), Array.from({ length: size }, (_, i) => i * 10));
    assert.equal(await a.has(key, size - 1, size), true);
  });

  it('writes inputs that wait for a held one together, after it', async () => {
    const key = 'job4.mr.1.0';
    let writes = 0;
    const subscription = h.nc.subscribe(`$KV.${h.infra.names.stateBucket}.${key}`, {
      callback: () => {
        writes += 1;
      },
    });
    await h.nc.flush();
    const first = a.hold(key);
    const second = a.hold(key);
    const written: number[] = [];
    const adding = a.add(key, 0, 3, 'zero', { hold: first, onWrite: () => Promise.resolve(written.push(0)) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(written.length, 0, 'input 0 waits for the held input 1');
    const adds = [adding, a.add(key, 1, 3, 'one', { hold: second, onWrite: () => Promise.resolve(written.push(1)) })];
    assert.deepEqual(await Promise.all(adds), [false, false]);
    assert.deepEqual(written, [0, 1]);
    await h.nc.flush();
    assert.equal(writes, 1, 'one write for both');
    subscription.unsubscribe();
    assert.equal(await b.add(key, 2, 3, 'two'), true);
    assert.deepEqual(await b.load(key, 3), ['zero', 'one', 'two']);
  });

  it('stores an input only once what its write waits for is done, and not at all when that fails', async () => {
    const key = 'job5.mr.1.0';
    let eventStored = false;
    const storedFirst = a.add(key, 0, 2, 'zero', {
      onWrite: () => new Promise((resolve) => setTimeout(() => resolve((eventStored = true)), 100)),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await b.has(key, 0, 2), false, 'stored before its event');
    assert.equal(await storedFirst, false);
    assert.equal(eventStored, true);
    assert.equal(await b.has(key, 0, 2), true);

    await assert.rejects(a.add(key, 1, 2, 'one', { onWrite: () => Promise.reject(new Error('event refused')) }), /event refused/);
    assert.equal(await b.has(key, 1, 2), false, 'stored although its event failed');
    assert.equal(await b.add(key, 1, 2, 'one'), true);
  });
});

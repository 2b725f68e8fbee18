import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeWireBytes, encodeWireBytes } from '@weft/shared';
import { CpuPool } from '../src/execution/cpu-pool.js';
import type { ThreadRequest } from '../src/execution/thread.js';

/** A task of a few milliseconds on a thread. */
const work: ThreadRequest = { task: 'count-primes', args: [{ start: 0, end: 100_000 }], final: true };

describe('CpuPool', () => {
  let pool: CpuPool;
  before(() => {
    pool = CpuPool.create(1);
  });
  after(async () => {
    await pool.close();
  });

  it('runs tasks in the order they were given, also when new ones keep arriving', async () => {
    const signal = new AbortController().signal;
    const finished: string[] = [];
    const run = (name: string) =>
      pool.run(work, signal).then((response) => {
        assert.equal(response.ok, true);
        finished.push(name);
      });
    // Like a worker that pulls a new item whenever one finishes: each completion
    // submits a newcomer at once, which must not overtake the tasks already waiting.
    let newcomers = 0;
    const chained = (name: string): Promise<void> =>
      run(name).then(() => (newcomers < 6 ? chained(`new-${++newcomers}`) : undefined));
    await Promise.all([chained('first'), run('second'), run('third'), run('fourth')]);
    assert.deepEqual(finished.slice(0, 4), ['first', 'second', 'third', 'fourth']);
    assert.equal(finished.length, 10);
  });

  it('decodes a first argument given as wire bytes, and returns a large result as wire bytes', async () => {
    const signal = new AbortController().signal;
    // The first argument is the list of the decoded values: here 0..399.
    const numbers = Array.from({ length: 400 }, (_, i) => encodeWireBytes(i));
    const large = await pool.run({ task: 'squares', args: [], final: false, firstArgWire: numbers, encodeResult: true }, signal);
    assert.ok(large.ok && 'wire' in large, JSON.stringify(large));
    assert.deepEqual(decodeWireBytes(large.wire), Array.from({ length: 400 }, (_, i) => i * i));
    // A small result comes back as a value, even when wire bytes are allowed.
    const partials = [[1, 2, 3], Array.from({ length: 300 }, (_, i) => i)].map((list) => encodeWireBytes(list));
    const small = await pool.run({ task: 'sum', args: [], final: true, firstArgWire: partials, encodeResult: true }, signal);
    assert.deepEqual(small, { ok: true, value: 6 + (299 * 300) / 2 });
  });

  it('tells when a task leaves the queue for a thread', async () => {
    const signal = new AbortController().signal;
    const events: string[] = [];
    const first = pool.run(work, signal, () => events.push('first started')).then(() => events.push('first finished'));
    const second = pool.run(work, signal, () => events.push('second started')).then(() => events.push('second finished'));
    assert.deepEqual(events, ['first started']);
    await Promise.all([first, second]);
    assert.deepEqual(events, ['first started', 'first finished', 'second started', 'second finished']);
  });

  it('drops a waiting task whose signal aborts, and runs the rest', async () => {
    const never = new AbortController().signal;
    const controller = new AbortController();
    const busy = pool.run(work, never);
    const dropped = pool.run(work, controller.signal);
    const kept = pool.run(work, never);
    controller.abort(new Error('not needed any more'));
    await assert.rejects(dropped, /not needed any more/);
    assert.equal((await busy).ok, true);
    assert.equal((await kept).ok, true);
  });
});

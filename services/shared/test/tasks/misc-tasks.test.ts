import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertRejectedAt, runTask } from './helpers.js';

/** [F(n), F(n + 1)] by fast doubling, an independent check of the iterative task. */
function fastDoubling(n: number): [bigint, bigint] {
  if (n === 0) return [0n, 1n];
  const [a, b] = fastDoubling(Math.floor(n / 2));
  const c = a * (2n * b - a);
  const d = a * a + b * b;
  return n % 2 === 0 ? [c, d] : [d, c + d];
}

void describe('sleep', () => {
  void it('returns the default message or the given one', async () => {
    assert.equal(await runTask('sleep', [0]), 'slept 0ms');
    assert.equal(await runTask('sleep', [5, 'done']), 'done');
    assert.equal(await runTask('sleep', [1n]), 'slept 1ms');
  });

  void it('waits at least ms milliseconds', async () => {
    const started = performance.now();
    await runTask('sleep', [30]);
    assert.ok(performance.now() - started >= 25);
  });

  void it('rejects with the abort reason and clears its timer', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const started = performance.now();
    const pending = runTask('sleep', [3_600_000], controller.signal);
    setTimeout(() => controller.abort(reason), 10);
    await assert.rejects(pending, (error) => error === reason);
    assert.ok(performance.now() - started < 1_000);
    // A pending one-hour timer would keep this test process alive: the runner would time out.
  });

  void it('rejects at once when already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await assert.rejects(runTask('sleep', [1000], controller.signal), /too late/);
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('sleep', [-1], [0]);
    assertRejectedAt('sleep', [3_600_001], [0]);
    assertRejectedAt('sleep', [10, 5], [1]);
  });
});

void describe('fibonacci', () => {
  void it('computes small values', async () => {
    const expected = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
    for (const [n, value] of expected.entries()) assert.equal(await runTask('fibonacci', [n]), value);
  });

  void it('is exact around and beyond the safe range', async () => {
    assert.equal(await runTask('fibonacci', [78]), 8944394323791464);
    assert.equal(await runTask('fibonacci', [79]), 14472334024676221n);
    assert.equal(await runTask('fibonacci', [100]), 354224848179261915075n);
  });

  void it('computes F(100000), matching fast doubling', async () => {
    const value = await runTask('fibonacci', [100_000]);
    assert.equal(typeof value, 'bigint');
    assert.equal(String(value).length, 20899);
    assert.equal(value, fastDoubling(100_000)[0]);
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('fibonacci', [-1], [0]);
    assertRejectedAt('fibonacci', [1.5], [0]);
    assertRejectedAt('fibonacci', [100_001], [0]);
    assertRejectedAt('fibonacci', ['10'], [0]);
  });
});

void describe('echo', () => {
  void it('returns null, its single argument, or the list of its arguments', async () => {
    assert.equal(await runTask('echo', []), null);
    assert.deepEqual(await runTask('echo', [{ a: [1, 2n] }]), { a: [1, 2n] });
    assert.deepEqual(await runTask('echo', [1, 'two', null]), [1, 'two', null]);
  });
});

void describe('fail', () => {
  void it('throws a retryable error with the default or given message', async () => {
    await assert.rejects(runTask('fail', []), (error) => {
      assert.ok(error instanceof Error);
      assert.equal(error.message, 'task failed on purpose');
      assert.equal((error as { code?: unknown }).code, undefined);
      return true;
    });
    await assert.rejects(runTask('fail', ['boom']), { message: 'boom' });
  });

  void it('accepts a previous chain value before its message', async () => {
    await assert.rejects(runTask('fail', [42, 'after step']), { message: 'after step' });
    await assert.rejects(runTask('fail', [42]), { message: 'task failed on purpose' });
  });
});

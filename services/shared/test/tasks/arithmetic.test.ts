import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPermanentTaskError } from '../../src/tasks/task-definition.js';
import { assertRejectedAt, chunks, runTask } from './helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;

void describe('add', () => {
  void it('adds small integers and floats', async () => {
    assert.equal(await runTask('add', [2, 3]), 5);
    assert.equal(await runTask('add', [0.1, 0.2]), 0.1 + 0.2);
    assert.equal(await runTask('add', [1.5, 2n]), 3.5);
  });

  void it('promotes to bigint beyond the safe range, exactly', async () => {
    assert.equal(await runTask('add', [MAX, 2]), 9007199254740993n);
    assert.equal(await runTask('add', [-MAX, -2]), -9007199254740993n);
    assert.equal(await runTask('add', [2n ** 64n, 1]), 18446744073709551617n);
  });

  void it('returns bigint results within the safe range as numbers', async () => {
    assert.equal(await runTask('add', [9007199254740993n, -2]), MAX);
    assert.equal(await runTask('add', [1n, 2n]), 3);
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('add', [1, 'x'], [1]);
    assertRejectedAt('add', [Number.NaN, 1], [0]);
    assertRejectedAt('add', [1], []);
    assertRejectedAt('add', [1, 2, 3], []);
  });
});

void describe('multiply', () => {
  void it('multiplies small integers and floats', async () => {
    assert.equal(await runTask('multiply', [6, 7]), 42);
    assert.equal(await runTask('multiply', [0.5, 3]), 1.5);
    assert.equal(await runTask('multiply', [0, -5]), 0);
  });

  void it('promotes to bigint beyond the safe range, exactly', async () => {
    assert.equal(await runTask('multiply', [MAX, MAX]), 81129638414606663681390495662081n);
    assert.equal(await runTask('multiply', [2 ** 30, 2 ** 30]), 1152921504606846976n);
    assert.equal(await runTask('multiply', [-(2n ** 70n), 3]), -3541774862152233910272n);
  });

  void it('returns bigint results within the safe range as numbers', async () => {
    assert.equal(await runTask('multiply', [3n, 4n]), 12);
  });
});

void describe('sum', () => {
  void it('sums a flat list, exactly', async () => {
    assert.equal(await runTask('sum', [[]]), 0);
    assert.equal(await runTask('sum', [[1, 2, 3]]), 6);
    assert.equal(await runTask('sum', [[MAX, 1, 1]]), 9007199254740993n);
    assert.equal(await runTask('sum', [[9007199254740993n, -2]]), MAX);
    assert.equal(await runTask('sum', [[0.5, 0.25, 1]]), 1.75);
  });

  void it('sums nested lists of partial results', async () => {
    assert.equal(await runTask('sum', [[1, [2, [3, [4n]]], []]]), 10);
  });

  void it('sums the squares of 1..1,000,000 given as 100 chunks of partial lists', async () => {
    const partials = await Promise.all(chunks(1, 1_000_001, 10_000).map((chunk) => runTask('squares', [chunk])));
    assert.equal(partials.length, 100);
    assert.equal(await runTask('sum', [partials]), 333333833333500000n);
  });

  void it('sums a range without materialising it', async () => {
    assert.equal(await runTask('sum', [{ start: 1, end: 101 }]), 5050);
    assert.equal(await runTask('sum', [{ start: 5, end: 5 }]), 0);
    const start = 9007199254000000;
    assert.equal(await runTask('sum', [{ start, end: start + 1000 }]), 9007199254000499500n);
    assert.equal(await runTask('sum', [{ start: 0, end: 10_000_000 }]), 49999995000000);
    // In closed form: a range of any length takes no longer than a short one.
    assert.equal(await runTask('sum', [{ start: 0, end: MAX }]), (BigInt(MAX) * BigInt(MAX - 1)) / 2n);
    assert.equal(await runTask('sum', [{ start: -MAX, end: MAX }]), -MAX);
    assert.equal(await runTask('sum', [{ start: -3, end: 1 }]), -6);
    // A length beyond 2^53, odd: no step may pass through a float.
    const first = -BigInt(MAX);
    assert.equal(await runTask('sum', [{ start: -MAX, end: 2 }]), ((first + 1n) * (2n - first)) / 2n);
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('sum', [[1, [2, 'x']]], [0, 1, 1]);
    assertRejectedAt('sum', [{ start: 3, end: 1 }], [0, 'end']);
    assertRejectedAt('sum', [{ start: 0.5, end: 1 }], [0, 'start']);
    assertRejectedAt('sum', [5], [0]);
  });
});

void describe('results beyond a double', () => {
  void it('fail for good instead of turning into null', async () => {
    const huge = 10n ** 400n;
    for (const [task, args] of [
      ['add', [1e308, 1e308]],
      ['add', [huge, 0.5]],
      ['multiply', [1e308, 10]],
      ['sum', [[1e308, 1e308]]],
      ['squares', [[1e200]]],
      ['sum-of-squares', [[1e200, 1]]],
    ] as const) {
      await assert.rejects(runTask(task, [...args]), (err: unknown) => isPermanentTaskError(err) && /beyond the range of a double/.test(err.message), task);
    }
    // Exact integers have no such limit.
    assert.equal(await runTask('multiply', [huge, huge]), huge * huge);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertRejectedAt, runTask } from './helpers.js';

void describe('squares', () => {
  void it('squares a list and a range', async () => {
    assert.deepEqual(await runTask('squares', [[1, -2, 0.5, 3n]]), [1, 4, 0.25, 9]);
    assert.deepEqual(await runTask('squares', [{ start: -2, end: 3 }]), [4, 1, 0, 1, 4]);
    assert.deepEqual(await runTask('squares', [[]]), []);
  });

  void it('squares exactly beyond the safe range', async () => {
    assert.deepEqual(await runTask('squares', [[94906265, 94906266, 2n ** 40n]]), [
      9007199136250225,
      9007199326062756n,
      1208925819614629174706176n,
    ]);
  });

  void it('rejects a range too long to return', async () => {
    await assert.rejects(runTask('squares', [{ start: 0, end: 1e9 }]), { code: 'TASK_PERMANENT_FAILURE' });
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('squares', [[1, [2]]], [0, 1]);
    assertRejectedAt('squares', [{ start: 1, stop: 2 }], [0, 'end']);
  });
});

void describe('sum-of-squares', () => {
  void it('sums squares of a list and a range', async () => {
    assert.equal(await runTask('sum-of-squares', [[1, 2, 3]]), 14);
    assert.equal(await runTask('sum-of-squares', [{ start: 1, end: 4 }]), 14);
    assert.equal(await runTask('sum-of-squares', [[0.5, 1]]), 1.25);
    assert.equal(await runTask('sum-of-squares', [[]]), 0);
  });

  void it('is exact over 1..1,000,000', async () => {
    assert.equal(await runTask('sum-of-squares', [{ start: 1, end: 1_000_001 }]), 333333833333500000n);
  });
});

void describe('count-primes', () => {
  void it('counts primes in small ranges and lists', async () => {
    assert.equal(await runTask('count-primes', [{ start: 1, end: 1001 }]), 168);
    assert.equal(await runTask('count-primes', [{ start: 0, end: 2 }]), 0);
    assert.equal(await runTask('count-primes', [[2, 3, 4, 5, 9, 2.5, -7, 97n, 1]]), 4);
  });

  void it('counts primes beyond the safe range with bigints', async () => {
    assert.equal(await runTask('count-primes', [[9007199254740997n, 9007199254740993n]]), 1);
  });

  void it('counts the primes below 5,000,000 from a range (never materialised)', async () => {
    assert.equal(await runTask('count-primes', [{ start: 0, end: 5_000_000 }]), 348513);
  });

  void it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await assert.rejects(runTask('count-primes', [{ start: 0, end: 5_000_000 }], controller.signal), /cancelled/);
  });

  void it('rejects bad arguments with their path', () => {
    assertRejectedAt('count-primes', [['7']], [0, 0]);
    assertRejectedAt('count-primes', [{ start: 10, end: 1 }], [0, 'end']);
  });
});

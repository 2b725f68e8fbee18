import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SPLIT_BYTES, planByteSplits } from '../../src/files/index.js';
import type { ByteSplit } from '../../src/files/index.js';

/** Asserts that `splits` are non-empty, contiguous and cover [0, size) in order. */
function assertCovers(splits: readonly ByteSplit[], size: number): void {
  let expected = 0;
  for (const split of splits) {
    assert.equal(split.start, expected);
    assert.ok(split.end > split.start, `empty split ${JSON.stringify(split)}`);
    expected = split.end;
  }
  assert.equal(expected, size);
}

void describe('planByteSplits', () => {
  void it('returns no splits for an empty file', () => {
    assert.deepEqual(planByteSplits(0), []);
    assert.deepEqual(planByteSplits(0, { splits: 4 }), []);
    assert.deepEqual(planByteSplits(0, { splitBytes: 1 }), []);
  });

  void it('cuts every splitBytes bytes, the last split shorter', () => {
    assert.deepEqual(planByteSplits(10, { splitBytes: 4 }), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    assert.deepEqual(planByteSplits(8, { splitBytes: 4 }), [
      { start: 0, end: 4 },
      { start: 4, end: 8 },
    ]);
    assert.deepEqual(planByteSplits(3, { splitBytes: 100 }), [{ start: 0, end: 3 }]);
  });

  void it('defaults to 8 MiB splits', () => {
    assert.equal(DEFAULT_SPLIT_BYTES, 8 * 1024 * 1024);
    const splits = planByteSplits(3 * DEFAULT_SPLIT_BYTES + 1);
    assert.equal(splits.length, 4);
    assert.deepEqual(splits[3], { start: 3 * DEFAULT_SPLIT_BYTES, end: 3 * DEFAULT_SPLIT_BYTES + 1 });
  });

  void it('cuts into the requested number of splits, sizes differing by at most one byte', () => {
    for (const size of [1, 2, 9, 10, 11, 100, 1001, 2 ** 40 + 3]) {
      for (const count of [1, 2, 3, 4, 7, 64]) {
        const splits = planByteSplits(size, { splits: count });
        assertCovers(splits, size);
        assert.equal(splits.length, Math.min(count, size));
        const lengths = splits.map((split) => split.end - split.start);
        assert.ok(Math.max(...lengths) - Math.min(...lengths) <= 1, `${size}/${count}: ${lengths.join(',')}`);
      }
    }
  });

  void it('prefers splitBytes when both options are given', () => {
    assert.equal(planByteSplits(100, { splitBytes: 10, splits: 2 }).length, 10);
  });

  void it('covers the file for many sizes', () => {
    for (let size = 1; size < 200; size += 7) {
      for (const splitBytes of [1, 2, 3, 5, 64, 199, 1000]) assertCovers(planByteSplits(size, { splitBytes }), size);
    }
  });

  void it('rejects invalid sizes and options', () => {
    assert.throws(() => planByteSplits(-1), RangeError);
    assert.throws(() => planByteSplits(1.5), RangeError);
    assert.throws(() => planByteSplits(10, { splitBytes: 0 }), RangeError);
    assert.throws(() => planByteSplits(10, { splitBytes: 2.5 }), RangeError);
    assert.throws(() => planByteSplits(10, { splits: 0 }), RangeError);
    assert.throws(() => planByteSplits(10, { splits: -3 }), RangeError);
  });
});

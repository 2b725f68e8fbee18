import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setBounded } from '../src/index.js';

describe('setBounded', () => {
  it('keeps the most recently set entries, as many as allowed', () => {
    const map = new Map<string, number>();
    for (const [key, value] of [['a', 1], ['b', 2], ['c', 3]] as const) setBounded(map, key, value, 3);
    setBounded(map, 'a', 10, 3); // set again: now the most recent
    setBounded(map, 'd', 4, 3);
    assert.deepEqual([...map], [['c', 3], ['a', 10], ['d', 4]]);
    setBounded(map, 'e', 5, 1);
    assert.deepEqual([...map], [['e', 5]]);
  });
});

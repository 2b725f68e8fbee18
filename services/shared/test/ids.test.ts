import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobRecordSchema, newJobId } from '../src/index.js';

describe('newJobId', () => {
  it('makes well-formed, distinct ids that sort by creation time', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newJobId(1_800_000_000_000 + i));
    for (const id of ids) {
      assert.match(id, /^[0-9a-hjkmnp-tv-z]{26}$/);
      assert.ok(JobRecordSchema.shape.id.safeParse(id).success, id);
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids);
    // The random part differs even within one millisecond.
    assert.equal(new Set(Array.from({ length: 1000 }, () => newJobId(1_800_000_000_000).slice(10))).size, 1000);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobIdTime, JobRecordSchema, newJobId } from '../src/index.js';

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

describe('jobIdTime', () => {
  it('reads back the creation time of an id', () => {
    for (const time of [0, 1, 1_800_000_000_123, Date.now()]) assert.equal(jobIdTime(newJobId(time)), time);
  });

  it('is NaN for what is not an id', () => {
    assert.ok(Number.isNaN(jobIdTime('')));
    assert.ok(Number.isNaN(jobIdTime('01m99ayr5u')));
    assert.ok(Number.isNaN(jobIdTime('01M99AYR58C2AVGH3RVCC0YA32')));
  });
});

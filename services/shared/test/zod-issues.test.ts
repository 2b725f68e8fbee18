import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { InvalidSpecError } from '../src/errors.js';
import { parseJobSpec } from '../src/spec/parse-job-spec.js';
import { flattenIssues } from '../src/zod-issues.js';

void describe('flattenIssues', () => {
  const issuesOf = (schema: z.ZodType, value: unknown) => {
    const result = schema.safeParse(value);
    assert.equal(result.success, false);
    return flattenIssues(result.error?.issues ?? []);
  };
  const nameOrNames = z.union([z.string().max(8), z.array(z.string()).max(3)]);

  void it("reports a failed union by the only branch of the value's type", () => {
    assert.deepEqual(issuesOf(nameOrNames, ['a', 'b', 'c', 'd']), [{ path: [], message: 'Too big: expected array to have <=3 items' }]);
    assert.deepEqual(issuesOf(nameOrNames, 'a long name'), [{ path: [], message: 'Too big: expected string to have <=8 characters' }]);
  });

  void it('keeps every branch when none took the value with only its size or format wrong', () => {
    const listOrRange = z.union([z.custom<unknown[]>((v) => Array.isArray(v), { message: 'expected a list' }), z.object({ start: z.number() })]);
    const [issue, ...more] = issuesOf(listOrRange, 5);
    assert.equal(more.length, 0);
    assert.match(issue?.message ?? '', /^expected a list; or .*expected object, received number$/);
  });

  void it('says what each branch expected when the value is of no branch its type', () => {
    const [issue, ...more] = issuesOf(nameOrNames, true);
    assert.equal(more.length, 0);
    assert.match(issue?.message ?? '', /expected string, received boolean; or .*expected array, received boolean/);
  });

  void it('points at a file list too long for a map-reduce input, with its own limit', () => {
    const input = { file: Array.from({ length: 10_001 }, (_, i) => `f${i}.txt`) };
    assert.throws(
      () => parseJobSpec({ mapReduce: { input, map: { task: 'line-count' } } }, { maxNodes: 100, maxDepth: 8 }),
      (err: unknown) =>
        err instanceof InvalidSpecError &&
        err.issues.length === 1 &&
        err.issues[0]?.pointer === '/mapReduce/input/file' &&
        err.issues[0].message === 'Too big: expected array to have <=10000 items',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encoder, generateText, splitSizes } from '../files/text-fixtures.js';
import { isPermanentTaskError } from '../../src/tasks/index.js';
import { assertRejectedAt, runTask } from './helpers.js';
import { FAN_INS, mapSplits, reduceTree, referenceLines, runText } from './text-helpers.js';

const job = { task: 'line-count' };

void describe('line-count', () => {
  void it('counts lines over every split size and fan-in', async () => {
    const texts = [
      generateText(31, { lines: 50, maxWords: 5, crlf: 0.5, empty: 0.3 }),
      generateText(32, { lines: 20, maxWords: 3, trailingNewline: false }),
      '\n\n\n',
      'x',
    ];
    for (const text of texts) {
      for (const splitBytes of splitSizes(encoder.encode(text).length)) {
        const partials = await mapSplits(job, [{ name: 'f.txt', text }], splitBytes);
        for (const fanIn of FAN_INS) assert.equal(await reduceTree(job, partials, fanIn), referenceLines(text).length);
      }
    }
  });

  void it('counts the lines of several files and of none', async () => {
    const files = [
      { name: 'a', text: 'a\nb\n' },
      { name: 'b', text: '' },
      { name: 'c', text: 'c' },
    ];
    assert.equal(await reduceTree(job, await mapSplits(job, files, 1), 2), 3);
    assert.equal(await reduceTree(job, [], 2), 0);
    assert.equal(await runText('line-count', [{ file: 'f', bytes: encoder.encode('a\r\nb') }], true), 2);
  });

  void it('refuses counts that add up past 2^53 - 1, for good', async () => {
    await assert.rejects(runTask('line-count', [[Number.MAX_SAFE_INTEGER, 2]]), (err: unknown) => isPermanentTaskError(err));
    assert.equal(await runTask('line-count', [[Number.MAX_SAFE_INTEGER - 2, 2]]), Number.MAX_SAFE_INTEGER);
  });

  void it('rejects bad partials', () => {
    assertRejectedAt('line-count', [[1, -2]], [0, 1]);
    assertRejectedAt('line-count', [[1, 'x']], [0, 1]);
  });
});

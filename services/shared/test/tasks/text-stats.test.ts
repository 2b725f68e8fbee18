import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachToken } from '../../src/tasks/text-tokens.js';
import { encoder, generateText, splitSizes } from '../files/text-fixtures.js';
import { isPermanentTaskError } from '../../src/tasks/index.js';
import { assertRejectedAt } from './helpers.js';
import { FAN_INS, mapSplits, reduceTree, referenceLines, runText } from './text-helpers.js';

/** Counts of the whole text in one pass: split on \s+, lines from referenceLines. */
function reference(texts: readonly string[]): unknown {
  const tokens = texts.flatMap((text) => text.split(/\s+/).filter((token) => token !== ''));
  const lines = texts.reduce((total, text) => total + referenceLines(text).length, 0);
  return { words: tokens.length, lines, distinctWords: new Set(tokens).size };
}

const split = (text: string) => ({ file: 'f.txt', bytes: encoder.encode(text) });
const job = { task: 'text-stats' };

void describe('text-stats', () => {
  void it('counts words, lines and distinct words over every split size and fan-in like a single pass', async () => {
    const texts = [
      generateText(21, { lines: 60, maxWords: 8, crlf: 0.3 }),
      generateText(22, { lines: 30, maxWords: 4, trailingNewline: false, empty: 0.4 }),
      'été Été été\u00a0naïve\u3000中文 2026\r\n\n\t x \n😀 😀',
    ];
    for (const text of texts) {
      const expected = reference([text]);
      for (const splitBytes of splitSizes(encoder.encode(text).length)) {
        const partials = await mapSplits(job, [{ name: 'f.txt', text }], splitBytes);
        for (const fanIn of FAN_INS) assert.deepEqual(await reduceTree(job, partials, fanIn), expected, `${splitBytes}/${fanIn}`);
      }
    }
  });

  void it('counts distinct words exactly across files', async () => {
    const files = [
      { name: 'a.txt', text: generateText(23, { lines: 500, maxWords: 10 }) },
      { name: 'b.txt', text: generateText(24, { lines: 300, maxWords: 10, trailingNewline: false }) },
      { name: 'c.txt', text: '' },
    ];
    const expected = reference(files.map((file) => file.text));
    for (const splitBytes of [50, 999, 100_000]) {
      const partials = await mapSplits(job, files, splitBytes);
      for (const fanIn of FAN_INS) assert.deepEqual(await reduceTree(job, partials, fanIn), expected, `${splitBytes}/${fanIn}`);
    }
  });

  void it('treats exactly the \\s characters as whitespace', () => {
    for (let code = 0; code < 0x10000; code++) {
      const char = String.fromCharCode(code);
      let count = 0;
      forEachToken(`a${char}b`, () => count++);
      assert.equal(count, /\s/.test(char) ? 2 : 1, `U+${code.toString(16)}`);
    }
  });

  void it('returns a sorted vocabulary in partials and counts on the final run', async () => {
    assert.deepEqual(await runText('text-stats', [split('b a\nb A\n')], false), {
      words: 4,
      lines: 2,
      vocabulary: ['A', 'a', 'b'],
    });
    assert.deepEqual(await runText('text-stats', [split('b a\nb A\n')], true), { words: 4, lines: 2, distinctWords: 3 });
  });

  void it('counts an empty file and a file without a final newline', async () => {
    assert.deepEqual(await reduceTree(job, [], 2), { words: 0, lines: 0, distinctWords: 0 });
    assert.deepEqual(await runText('text-stats', [split('')], true), { words: 0, lines: 0, distinctWords: 0 });
    assert.deepEqual(await runText('text-stats', [split('\n\n')], true), { words: 0, lines: 2, distinctWords: 0 });
    assert.deepEqual(await runText('text-stats', [split('x y\nx')], true), { words: 3, lines: 2, distinctWords: 2 });
  });

  void it('refuses counts that add up past 2^53 - 1, for good', async () => {
    const partial = (words: number, lines: number) => ({ words, lines, vocabulary: [] });
    for (const partials of [[partial(Number.MAX_SAFE_INTEGER, 0), partial(1, 0)], [partial(0, Number.MAX_SAFE_INTEGER), partial(0, 1)]]) {
      await assert.rejects(runText('text-stats', [partials], false), (err: unknown) => isPermanentTaskError(err));
    }
  });

  void it('rejects unsorted vocabularies', () => {
    assertRejectedAt('text-stats', [[{ words: 2, lines: 1, vocabulary: ['b', 'a'] }]], [0, 0, 'vocabulary', 1]);
    assertRejectedAt('text-stats', [[{ words: 2, lines: 1, vocabulary: ['a', 'a'] }]], [0, 0, 'vocabulary', 1]);
    assertRejectedAt('text-stats', [[{ words: 2, lines: -1, vocabulary: [] }]], [0, 0, 'lines']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encoder, generateText, splitSizes } from '../files/text-fixtures.js';
import { isPermanentTaskError } from '../../src/tasks/index.js';
import { argIssues, assertRejectedAt, catalogue } from './helpers.js';
import { FAN_INS, mapSplits, reduceTree, runText } from './text-helpers.js';
import type { TextJob } from './text-helpers.js';

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;

/** Word counts of the whole text in one pass with a regular expression, ranked by sorting everything. */
function reference(text: string, caseFold = true, top?: number): unknown {
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  let total = 0;
  for (const [match] of text.matchAll(WORD)) {
    const word = caseFold ? match.toLowerCase() : match;
    counts[word] = (counts[word] ?? 0) + 1;
    total++;
  }
  const ranked = Object.entries(counts).sort(([wa, ca], [wb, cb]) => cb - ca || (wa < wb ? -1 : 1));
  return { total, distinct: ranked.length, words: top === undefined ? ranked : ranked.slice(0, top) };
}

const split = (text: string, file = 'f.txt') => ({ file, bytes: encoder.encode(text) });

void describe('word-count', () => {
  void it('counts words over every split size and fan-in like a single pass over the text', async () => {
    const texts = [
      generateText(11, { lines: 60, maxWords: 8, crlf: 0.3 }),
      generateText(12, { lines: 40, maxWords: 5, trailingNewline: false, empty: 0.3 }),
      "don't Don’t rock'n'roll dogs' 'tis a''b été ÉTÉ naïve 中文中文 2026 x1\n" +
        '😀a😀 e\u0301te\u0301 İstanbul\n',
    ];
    const jobs: TextJob[] = [
      { task: 'word-count' },
      { task: 'word-count', mapArgs: [{ caseFold: false }] },
      { task: 'word-count', mapArgs: [{ top: 5 }] },
      { task: 'word-count', reduceArgs: [{ top: 3 }] },
    ];
    for (const text of texts) {
      for (const splitBytes of splitSizes(encoder.encode(text).length)) {
        for (const job of jobs) {
          const partials = await mapSplits(job, [{ name: 'f.txt', text }], splitBytes);
          const options = (job.mapArgs?.[0] ?? job.reduceArgs?.[0] ?? {}) as { caseFold?: boolean; top?: number };
          const expected = reference(text, options.caseFold ?? true, options.top);
          for (const fanIn of FAN_INS) {
            const context = `splitBytes ${splitBytes}, fanIn ${fanIn}, ${JSON.stringify(job)}`;
            assert.deepEqual(await reduceTree(job, partials, fanIn), expected, context);
          }
        }
      }
    }
  });

  void it('refuses counts that add up past 2^53 - 1, for good', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    for (const partials of [
      [{ total: max, words: ['a'], counts: [1] }, { total: 1, words: ['b'], counts: [1] }],
      [{ total: 1, words: ['a'], counts: [max] }, { total: 1, words: ['a'], counts: [1] }],
    ]) {
      await assert.rejects(runText('word-count', [partials], false), (err: unknown) => isPermanentTaskError(err));
    }
  });

  void it('counts a larger corpus split in many ways', async () => {
    const text = generateText(13, { lines: 3000, maxWords: 12, crlf: 0.1 });
    const job = { task: 'word-count', mapArgs: [{ top: 20 }] };
    const expected = reference(text, true, 20);
    for (const splitBytes of [97, 1000, 4096, 50_000]) {
      const partials = await mapSplits(job, [{ name: 'big.txt', text }], splitBytes);
      for (const fanIn of FAN_INS) assert.deepEqual(await reduceTree(job, partials, fanIn), expected, `${splitBytes}/${fanIn}`);
    }
  });

  void it('folds case as toLowerCase() folds each whole word', async () => {
    // Final sigma, dotted capital I, titlecase and astral capitals, capitals that are
    // numbers (Roman numerals), and words that are their own lowercase beside them.
    const text =
      'ΣΑΣ σας ΌΣΟΣ İstanbul istanbul ǅemal ǆemal 𐐀𐐨 𐐨𐐨 STRAẞE straße Ⅻ ⅻ DON’T don’t naïve NAÏVE\n' +
      'ΣΑΣ’Σ ÉTÉ été x1 X1 ǈ 𝐀 Ab ab\n';
    const job = { task: 'word-count' };
    for (const splitBytes of splitSizes(encoder.encode(text).length)) {
      const partials = await mapSplits(job, [{ name: 'f.txt', text }], splitBytes);
      for (const fanIn of FAN_INS) assert.deepEqual(await reduceTree(job, partials, fanIn), reference(text), `${splitBytes}/${fanIn}`);
    }
  });

  void it('follows the word rule', async () => {
    const text = "Don't dogs' 'tis a''b co-op snake_case x1 2026 é\u0301 ’twas rock’n’roll";
    const result = (await runText('word-count', [split(text)], true)) as {
      words: [string, number][];
    };
    assert.deepEqual(
      result.words.map(([word]) => word).sort(),
      ['2026', 'a', 'b', 'case', 'co', "don't", 'dogs', 'op', 'rock’n’roll', 'snake', 'tis', 'twas', 'x1', 'é\u0301'].sort(),
    );
  });

  void it('returns the final form from a single map run and a partial otherwise', async () => {
    assert.deepEqual(await runText('word-count', [split('b a b\n')], true), {
      total: 3,
      distinct: 2,
      words: [['b', 2], ['a', 1]],
    });
    assert.deepEqual(await runText('word-count', [split('b a b\n')], false), { total: 3, words: ['b', 'a'], counts: [2, 1] });
    assert.deepEqual(await runText('word-count', [split('B a b\n'), { top: 1 }], false), {
      total: 3,
      words: ['b', 'a'],
      counts: [2, 1],
      top: 1,
    });
  });

  void it('counts nothing in an empty file', async () => {
    const empty = { total: 0, distinct: 0, words: [] };
    assert.deepEqual(await reduceTree({ task: 'word-count' }, [], 16), empty);
    assert.deepEqual(await runText('word-count', [split('')], true), empty);
    assert.deepEqual(await runText('word-count', [split('  \n\r\n--\n')], true), empty);
  });

  void it('breaks count ties by word and cuts to top', async () => {
    const text = 'e d c b a c d b d a c b\n';
    assert.deepEqual(await runText('word-count', [split(text), { top: 2 }], true), {
      total: 12,
      distinct: 5,
      words: [['b', 3], ['c', 3]],
    });
    assert.deepEqual(await runText('word-count', [split(text), { top: 4 }], true), {
      total: 12,
      distinct: 5,
      words: [['b', 3], ['c', 3], ['d', 3], ['a', 2]],
    });
    assert.deepEqual(((await runText('word-count', [split(text), { top: 10 }], true)) as { words: unknown[] }).words.length, 5);
  });

  void it('selects the top few of many words exactly, ties included', async () => {
    const words: string[] = [];
    for (let i = 0; i < 2000; i++) words.push(...Array<string>(1 + (i % 7)).fill(`w${(i * 7919) % 2000}`));
    const text = words.join(' ') + '\n';
    for (const top of [1, 3, 10, 100, 249, 250, 1999]) {
      assert.deepEqual(await runText('word-count', [split(text), { top }], true), reference(text, true, top), `top ${top}`);
    }
  });

  void it('keeps the smallest top of map and reduce options', async () => {
    const partials = [
      await runText('word-count', [split('a a b c\n'), { top: 2 }], false),
      await runText('word-count', [split('c c d\n')], false),
    ];
    assert.deepEqual(await runText('word-count', [partials, { top: 1 }], true), { total: 7, distinct: 4, words: [['c', 3]] });
    assert.deepEqual(await runText('word-count', [partials], true), { total: 7, distinct: 4, words: [['c', 3], ['a', 2]] });
  });

  void it('stops when aborted', () => {
    const task = catalogue.get('word-count');
    assert.ok(task);
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const parsed = catalogue.parseArgs('word-count', [split('word '.repeat(70_000))]);
    assert.ok(parsed.ok);
    assert.throws(() => task.run(parsed.args, { signal: controller.signal }), /cancelled/);
  });

  void it('rejects bad options and malformed partials', () => {
    assertRejectedAt('word-count', [split('a'), { top: 0 }], [1, 'top']);
    assertRejectedAt('word-count', [split('a'), { caseFold: 'yes' }], [1, 'caseFold']);
    assertRejectedAt('word-count', [split('a'), { tpo: 3 }], [1]);
    assertRejectedAt('word-count', [[{ total: 1, words: ['a'], counts: [1, 2] }]], [0, 0, 'counts']);
    assertRejectedAt('word-count', [[{ total: 1, words: ['a', 2], counts: [1, 2] }]], [0, 0, 'words', 1]);
    assertRejectedAt('word-count', [[{ total: 1, words: ['a'], counts: [-1] }]], [0, 0, 'counts', 0]);
    assert.ok(argIssues('word-count', [{ file: 'f', bytes: 'text' }]).length > 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPermanentTaskError } from '../../src/tasks/index.js';
import { encoder, generateText, splitSizes } from '../files/text-fixtures.js';
import type { TextShape } from '../files/text-fixtures.js';
import { argIssues, assertRejectedAt, catalogue } from './helpers.js';
import { FAN_INS, mapSplits, reduceTree, referenceLines, runText } from './text-helpers.js';
import type { TextFile, TextJob } from './text-helpers.js';

interface Options {
  pattern: string;
  flags?: string;
  invert?: boolean;
  maxMatches?: number;
}

/** grep over whole files with a JavaScript regular expression (the patterns below mean the same in RE2 and JS). */
function reference(files: readonly TextFile[], options: Options): unknown {
  const regex = new RegExp(options.pattern, options.flags === 'i' ? 'iu' : 'u');
  const matches = files.flatMap((file) =>
    referenceLines(file.text)
      .map((text, i) => ({ file: file.name, line: i + 1, text }))
      .filter((match) => regex.test(match.text) !== (options.invert ?? false)),
  );
  return { matches: matches.slice(0, options.maxMatches ?? Infinity), count: matches.length };
}

const split = (text: string, file = 'f.txt') => ({ file, bytes: encoder.encode(text) });

const OPTIONS: Options[] = [
  { pattern: 'error' },
  { pattern: 'été' },
  { pattern: 'ÉTÉ', flags: 'i' },
  { pattern: '^the\\b' },
  { pattern: '\\d+$' },
  { pattern: '[中東]|😀' },
  { pattern: "don't|rock'n" },
  { pattern: '^$' },
  { pattern: 'a', invert: true },
  { pattern: 'e', maxMatches: 3 },
];

/** A few of {@link OPTIONS}: every kind of option, for the sweeps over many split sizes. */
const SOME_OPTIONS = OPTIONS.filter((options) => ['error', 'ÉTÉ', '^$', 'a', 'e'].includes(options.pattern));

async function checkFiles(
  files: readonly TextFile[],
  splitByteSizes: readonly number[],
  optionSets: readonly Options[] = OPTIONS,
): Promise<void> {
  for (const options of optionSets) {
    const job: TextJob = { task: 'grep', mapArgs: [options] };
    const expected = reference(files, options);
    for (const splitBytes of splitByteSizes) {
      const partials = await mapSplits(job, files, splitBytes);
      for (const fanIn of FAN_INS) {
        assert.deepEqual(await reduceTree(job, partials, fanIn), expected, `${JSON.stringify(options)}, ${splitBytes}/${fanIn}`);
      }
    }
  }
}

const shape = (lines: number, extra: Partial<TextShape> = {}): TextShape => ({ lines, maxWords: 6, crlf: 0.3, ...extra });

void describe('grep', () => {
  void it('finds the matching lines with their line numbers over every split size and fan-in', async () => {
    const text = generateText(41, shape(25));
    await checkFiles([{ name: 'f.txt', text }], splitSizes(encoder.encode(text).length), SOME_OPTIONS);
    const unterminated = generateText(42, shape(15, { trailingNewline: false, empty: 0.3 }));
    await checkFiles([{ name: 'g.txt', text: unterminated }], splitSizes(encoder.encode(unterminated).length), SOME_OPTIONS);
  });

  void it('numbers lines within each of several files, in file order', async () => {
    const files = [
      { name: 'a.txt', text: generateText(43, shape(200)) },
      { name: 'empty.txt', text: '' },
      { name: 'b.txt', text: generateText(44, shape(120, { trailingNewline: false })) },
      { name: 'c.txt', text: 'error\n' },
    ];
    await checkFiles(files, [7, 200, 1500, 100_000]);
  });

  void it('returns the final form from a single map run', async () => {
    assert.deepEqual(await runText('grep', [split('a\nb\r\nab\n'), { pattern: 'b' }], true), {
      matches: [
        { file: 'f.txt', line: 2, text: 'b' },
        { file: 'f.txt', line: 3, text: 'ab' },
      ],
      count: 2,
    });
    assert.deepEqual(await runText('grep', [split('a\nb\n'), { pattern: 'b' }], false), {
      count: 1,
      segments: [{ file: 'f.txt', lines: 2, matches: [{ line: 2, text: 'b' }] }],
    });
  });

  void it('keeps the smallest maxMatches of map and reduce options and counts every match', async () => {
    const partials = [
      await runText('grep', [split('x1\nx2\nx3\n'), { pattern: 'x', maxMatches: 2 }], false),
      await runText('grep', [split('x4\nx5\n'), { pattern: 'x' }], false),
    ];
    const lines = (result: unknown) => (result as { matches: { line: number }[] }).matches.map((match) => match.line);
    assert.deepEqual(lines(await runText('grep', [partials], true)), [1, 2]);
    assert.deepEqual(lines(await runText('grep', [partials, { maxMatches: 1 }], true)), [1]);
    assert.equal(((await runText('grep', [partials], true)) as { count: number }).count, 5);
  });

  void it('finds nothing in an empty input', async () => {
    assert.deepEqual(await reduceTree({ task: 'grep' }, [], 16), { matches: [], count: 0 });
    assert.deepEqual(await runText('grep', [split(''), { pattern: '' }], true), { matches: [], count: 0 });
  });

  void it('runs a catastrophic-backtracking pattern in linear time', async () => {
    const line = 'a'.repeat(100_000) + 'b';
    const result = await runText('grep', [split(`${line}\naaa\n`), { pattern: '(a+)+$' }], true);
    assert.deepEqual(result, { matches: [{ file: 'f.txt', line: 2, text: 'aaa' }], count: 1 });
  });

  void it('rejects a pattern that would cost too much per byte, short as it is', () => {
    // 142 times `.{1000}` in a thousand characters: over 140,000 steps per byte of text.
    assertRejectedAt('grep', [split('a'), { pattern: '.{1000}'.repeat(142).slice(0, 1000) }], [1, 'pattern']);
    assertRejectedAt('grep', [split('a'), { pattern: '.{1000}.{1000}.{1000}' }], [1, 'pattern']);
    // One such count is still fine.
    assert.equal(catalogue.parseArgs('grep', [split('a'), { pattern: '.{1000}' }]).ok, true);
  });

  void it('rejects an invalid pattern when validating arguments and when running', async () => {
    assertRejectedAt('grep', [split('a'), { pattern: '(a' }], [1, 'pattern']);
    assertRejectedAt('grep', [split('a'), { pattern: 'a**' }], [1, 'pattern']);
    assertRejectedAt('grep', [split('a'), { pattern: '(?<=a)b' }], [1, 'pattern']);
    const task = catalogue.get('grep');
    assert.ok(task);
    await assert.rejects(
      async () => {
        await task.run([split('a'), { pattern: '[z-a]' }], { signal: new AbortController().signal });
      },
      (error) => isPermanentTaskError(error) && /invalid pattern/.test((error as Error).message),
    );
  });

  void it('requires a pattern to search a split, not to merge partials', () => {
    assertRejectedAt('grep', [split('a')], [1]);
    assertRejectedAt('grep', [split('a'), {}], [1, 'pattern']);
    assert.ok(catalogue.parseArgs('grep', [[]]).ok);
    assert.ok(catalogue.parseArgs('grep', [[], { maxMatches: 5 }]).ok);
  });

  void it('rejects bad options and malformed partials', () => {
    assertRejectedAt('grep', [split('a'), { pattern: 'a', flags: 'g' }], [1, 'flags']);
    assertRejectedAt('grep', [split('a'), { pattern: 'a', maxMatches: 0 }], [1, 'maxMatches']);
    assertRejectedAt('grep', [split('a'), { pattern: 'a', extra: 1 }], [1]);
    assertRejectedAt('grep', [[{ count: 1, segments: [{ file: 'f', lines: 1, matches: [{ line: 0, text: 'x' }] }] }]], [
      0, 0, 'segments', 0, 'matches', 0,
    ]);
    assert.ok(argIssues('grep', [[{ count: 1 }]]).length > 0);
  });
});

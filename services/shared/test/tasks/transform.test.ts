import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encoder, generateText, splitSizes } from '../files/text-fixtures.js';
import { assertRejectedAt } from './helpers.js';
import { mapSplits, referenceLines, runText } from './text-helpers.js';

interface Options {
  match?: string;
  invert?: boolean;
  trim?: boolean;
  lowercase?: boolean;
  uppercase?: boolean;
}

/** The transform of a whole text, line by line with a JavaScript regular expression. */
function reference(text: string, options: Options): string {
  const regex = options.match === undefined ? undefined : new RegExp(options.match, 'u');
  return referenceLines(text)
    .filter((line) => regex === undefined || regex.test(line) !== (options.invert ?? false))
    .map((line) => (options.trim === true ? line.trim() : line))
    .map((line) => (options.lowercase === true ? line.toLowerCase() : options.uppercase === true ? line.toUpperCase() : line))
    .map((line) => `${line}\n`)
    .join('');
}

const split = (text: string) => ({ file: 'f.txt', bytes: encoder.encode(text) });

void describe('transform', () => {
  void it('transforms the lines of every split, which concatenate to the transform of the file', async () => {
    const text = generateText(51, { lines: 40, maxWords: 6, crlf: 0.4, trailingNewline: false });
    const optionSets: Options[] = [
      {},
      { lowercase: true },
      { uppercase: true, trim: true },
      { match: 'été|中' },
      { match: '^\\s*$', invert: true, trim: true },
    ];
    for (const options of optionSets) {
      const expected = reference(text, options);
      for (const splitBytes of splitSizes(encoder.encode(text).length)) {
        const parts = await mapSplits({ task: 'transform', mapArgs: [options] }, [{ name: 'f.txt', text }], splitBytes);
        assert.equal(parts.join(''), expected, `${JSON.stringify(options)}, ${splitBytes}`);
      }
    }
  });

  void it('ends every line with \\n, normalising CRLF', async () => {
    assert.equal(await runText('transform', [split('a\r\nb')], true), 'a\nb\n');
    assert.equal(await runText('transform', [split('')], true), '');
    assert.equal(await runText('transform', [split('\n\r\n')], true), '\n\n');
    assert.equal(await runText('transform', [split('  Été \n'), { trim: true, uppercase: true }], true), 'ÉTÉ\n');
  });

  void it('tests match before trimming and changing case', async () => {
    assert.equal(await runText('transform', [split(' A\nb\n'), { match: '^ ', trim: true, lowercase: true }], true), 'a\n');
    assert.equal(await runText('transform', [split('x\ny\n'), { match: 'x', invert: true }], true), 'y\n');
  });

  void it('rejects contradictory options and invalid patterns', () => {
    assertRejectedAt('transform', [split('a'), { lowercase: true, uppercase: true }], [1, 'uppercase']);
    assertRejectedAt('transform', [split('a'), { invert: true }], [1, 'invert']);
    assertRejectedAt('transform', [split('a'), { match: '(' }], [1, 'match']);
    assertRejectedAt('transform', [[]], [0]);
  });
});

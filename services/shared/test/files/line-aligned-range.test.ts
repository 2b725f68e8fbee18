import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_READ_CHUNK_BYTES,
  memoryByteSource,
  planByteSplits,
  readLineAlignedChunks,
  readLineAlignedRange,
} from '../../src/files/index.js';
import { SplitTooLargeError } from '../../src/errors.js';
import { concatBytes, encoder, generateText, recordingSource, splitSizes } from './text-fixtures.js';

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Offsets where lines start: 0 (when the file is not empty) and after every newline but the last byte. */
function lineStarts(bytes: Uint8Array): number[] {
  const starts: number[] = bytes.length > 0 ? [0] : [];
  bytes.forEach((byte, i) => {
    if (byte === 0x0a && i + 1 < bytes.length) starts.push(i + 1);
  });
  return starts;
}

/** What [start, end) owns, computed from the line starts: from its first line start to the next line start at or after end. */
function expectedOwned(bytes: Uint8Array, starts: readonly number[], start: number, end: number): Uint8Array {
  const from = starts.find((offset) => offset >= start);
  if (from === undefined || from >= end) return new Uint8Array(0);
  return bytes.subarray(from, starts.find((offset) => offset >= end) ?? bytes.length);
}

/** Checks every split of `text` for every split size and a few read sizes. */
async function checkText(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  const starts = lineStarts(bytes);
  for (const splitBytes of splitSizes(bytes.length)) {
    for (const chunkBytes of [1, 3, 16, DEFAULT_READ_CHUNK_BYTES]) {
      const splits = planByteSplits(bytes.length, { splitBytes });
      const source = memoryByteSource(bytes);
      const owned = await Promise.all(splits.map((s) => readLineAlignedRange(source, s.start, s.end, { chunkBytes })));
      const context = `text ${JSON.stringify(text.slice(0, 40))}…, splitBytes ${splitBytes}, chunkBytes ${chunkBytes}`;
      assert.deepEqual(concatBytes(owned), bytes, context);
      let lineCount = 0;
      owned.forEach((part, i) => {
        const split = splits[i];
        assert.ok(split);
        assert.deepEqual(part, expectedOwned(bytes, starts, split.start, split.end), `${context}, split ${i}`);
        assert.doesNotThrow(() => strictDecoder.decode(part), `${context}, split ${i} cuts a character`);
        lineCount += part.reduce((n, byte) => n + (byte === 0x0a ? 1 : 0), 0);
      });
      const expectedNewlines = bytes.reduce((n, byte) => n + (byte === 0x0a ? 1 : 0), 0);
      assert.equal(lineCount, expectedNewlines, context);
    }
  }
}

void describe('readLineAlignedRange', () => {
  void it('gives every line to exactly one split, for generated texts and every split size', async () => {
    const shapes = [
      { lines: 40, maxWords: 6 },
      { lines: 25, maxWords: 3, crlf: 0.5, empty: 0.3 },
      { lines: 30, maxWords: 8, trailingNewline: false },
      { lines: 1, maxWords: 5, trailingNewline: false },
      { lines: 60, maxWords: 1, empty: 0.6 },
    ];
    for (const [seed, shape] of shapes.entries()) await checkText(generateText(seed + 1, shape));
  });

  void it('handles edge texts', async () => {
    const texts = [
      '',
      '\n',
      '\n\n\n',
      'a',
      'a\n',
      'ab\ncd',
      '\r\n\r\n',
      'x'.repeat(200) + '\nshort\n' + 'y'.repeat(150),
      'short\n' + 'z'.repeat(300) + '\n',
      'é中😀\n'.repeat(20) + '😀é',
      'éééééé\n中中中中\n😀😀😀😀😀\n',
      '😀'.repeat(100),
    ];
    for (const text of texts) await checkText(text);
  });

  void it('returns a line longer than several splits whole from the split holding its first byte', async () => {
    const long = 'L'.repeat(1000);
    const bytes = encoder.encode(`head\n${long}\ntail\n`);
    const owned = await Promise.all(
      planByteSplits(bytes.length, { splitBytes: 100 }).map((s) =>
        readLineAlignedRange(memoryByteSource(bytes), s.start, s.end, { chunkBytes: 64 }),
      ),
    );
    assert.equal(new TextDecoder().decode(owned[0]), `head\n${long}\n`);
    for (const part of owned.slice(1, -1)) assert.equal(part.length, 0);
    assert.equal(new TextDecoder().decode(owned.at(-1)), 'tail\n');
  });

  void it('refuses to collect lines longer than it may hold', async () => {
    const bytes = encoder.encode(`head\n${'L'.repeat(1000)}\ntail\n`);
    await assert.rejects(readLineAlignedRange(memoryByteSource(bytes), 0, 100, { chunkBytes: 64, maxBytes: 500 }), SplitTooLargeError);
    // Short enough: the same split is read whole.
    assert.equal((await readLineAlignedRange(memoryByteSource(bytes), 0, 100, { chunkBytes: 64, maxBytes: 1006 })).length, 1006);
  });

  void it('reads only a little beyond its range', async () => {
    const bytes = encoder.encode(generateText(7, { lines: 2000, maxWords: 6, crlf: 0 }));
    const longestLine = Math.max(...new TextDecoder().decode(bytes).split('\n').map((line) => encoder.encode(line).length));
    const chunkBytes = 32;
    for (const { start, end } of planByteSplits(bytes.length, { splitBytes: 500 })) {
      const source = recordingSource(bytes);
      await readLineAlignedRange(source, start, end, { chunkBytes });
      const first = Math.min(...source.calls.map((call) => call.offset));
      const last = Math.max(...source.calls.map((call) => call.offset + call.length));
      assert.equal(first, Math.max(0, start - 1));
      assert.ok(last <= end + longestLine + chunkBytes, `split [${start}, ${end}) read up to ${last}`);
      for (const call of source.calls) assert.ok(call.length <= chunkBytes);
    }
  });

  void it('reads only its own range when it lies inside one line', async () => {
    const bytes = encoder.encode('a'.repeat(10_000) + '\n');
    const source = recordingSource(bytes);
    const owned = await readLineAlignedRange(source, 4000, 5000, { chunkBytes: 256 });
    assert.equal(owned.length, 0);
    for (const call of source.calls) {
      assert.ok(call.offset >= 3999 && call.offset + call.length <= 4999, JSON.stringify(call));
    }
  });

  void it('starts at a line that begins exactly at the split start', async () => {
    const source = memoryByteSource(encoder.encode('ab\ncd\nef\n'));
    assert.equal(new TextDecoder().decode(await readLineAlignedRange(source, 3, 4)), 'cd\n');
    assert.equal(new TextDecoder().decode(await readLineAlignedRange(source, 2, 3)), '');
    assert.equal(new TextDecoder().decode(await readLineAlignedRange(source, 2, 4)), 'cd\n');
    assert.equal(new TextDecoder().decode(await readLineAlignedRange(source, 0, 3)), 'ab\n');
    assert.equal(new TextDecoder().decode(await readLineAlignedRange(source, 1, 9)), 'cd\nef\n');
  });

  void it('owns nothing for an empty range or an empty file', async () => {
    assert.equal((await readLineAlignedRange(memoryByteSource(new Uint8Array(0)), 0, 0)).length, 0);
    const source = recordingSource(encoder.encode('abc\n'));
    assert.equal((await readLineAlignedRange(source, 2, 2)).length, 0);
    assert.deepEqual(source.calls, []);
  });

  void it('copes with sources that return fewer bytes than asked', async () => {
    const text = generateText(3, { lines: 50, maxWords: 5 });
    const bytes = encoder.encode(text);
    const source = recordingSource(bytes, 5);
    const parts = await Promise.all(
      planByteSplits(bytes.length, { splitBytes: 37 }).map((s) =>
        readLineAlignedRange(source, s.start, s.end, { chunkBytes: 64 }),
      ),
    );
    assert.deepEqual(concatBytes(parts), bytes);
  });

  void it('rejects ranges outside the source and bad read sizes', async () => {
    const source = memoryByteSource(encoder.encode('abc\n'));
    await assert.rejects(readLineAlignedRange(source, 0, 5), RangeError);
    await assert.rejects(readLineAlignedRange(source, 3, 2), RangeError);
    await assert.rejects(readLineAlignedRange(source, -1, 2), RangeError);
    await assert.rejects(readLineAlignedRange(source, 0, 2, { chunkBytes: 0 }), RangeError);
  });

  void it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const source = memoryByteSource(encoder.encode('abc\n'));
    await assert.rejects(readLineAlignedRange(source, 0, 4, { signal: controller.signal }), /cancelled/);
  });
});

void describe('readLineAlignedChunks', () => {
  void it('streams a long line in chunks of bounded size', async () => {
    const bytes = encoder.encode('x'.repeat(100_000) + '\nnext\n');
    const sizes: number[] = [];
    const parts: Uint8Array[] = [];
    for await (const chunk of readLineAlignedChunks(memoryByteSource(bytes), 0, 10, { chunkBytes: 4096 })) {
      sizes.push(chunk.length);
      parts.push(chunk);
    }
    assert.ok(sizes.length > 20);
    assert.ok(sizes.every((size) => size > 0 && size <= 4096));
    assert.deepEqual(concatBytes(parts), bytes.subarray(0, 100_001));
  });

  void it('yields nothing for a split that owns no line', async () => {
    const bytes = encoder.encode('abcdef\n');
    const chunks: Uint8Array[] = [];
    for await (const chunk of readLineAlignedChunks(memoryByteSource(bytes), 1, 7)) chunks.push(chunk);
    assert.deepEqual(chunks, []);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countLines, decodeText, iterateLines, iterateTextLines } from '../../src/files/index.js';
import { encoder } from './text-fixtures.js';

const lines = (text: string): string[] => [...iterateLines(encoder.encode(text))];

void describe('iterateLines', () => {
  void it('splits on newlines, counting the last line without a newline', () => {
    assert.deepEqual(lines(''), []);
    assert.deepEqual(lines('a'), ['a']);
    assert.deepEqual(lines('a\n'), ['a']);
    assert.deepEqual(lines('a\n\n'), ['a', '']);
    assert.deepEqual(lines('\n'), ['']);
    assert.deepEqual(lines('a\nb'), ['a', 'b']);
    assert.deepEqual(lines('a\n\nb\n'), ['a', '', 'b']);
  });

  void it('drops the carriage return of CRLF line ends only', () => {
    assert.deepEqual(lines('a\r\nb\r\n'), ['a', 'b']);
    assert.deepEqual(lines('\r\n\r\n'), ['', '']);
    assert.deepEqual(lines('a\rb\r\n'), ['a\rb']);
    // A last line's own `\r`, with no `\n` after it, is part of its text.
    assert.deepEqual(lines('a\r'), ['a\r']);
    assert.deepEqual(lines('a\rb\r'), ['a\rb\r']);
    assert.deepEqual(lines('a\r\r\n'), ['a\r']);
  });

  void it('decodes UTF-8, keeping a byte order mark and replacing invalid bytes', () => {
    assert.deepEqual(lines('été\n中文\n😀'), ['été', '中文', '😀']);
    assert.deepEqual(lines('\uFEFFa\n'), ['\uFEFFa']);
    assert.deepEqual([...iterateLines(new Uint8Array([0x61, 0xc3, 0x0a, 0xff, 0x62]))], ['a\uFFFD', '\uFFFDb']);
    assert.equal(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), '\uFEFFa');
  });

  void it('iterates the lines of a decoded text the same way', () => {
    assert.deepEqual([...iterateTextLines('x\r\ny\n\nz')], ['x', 'y', '', 'z']);
  });
});

void describe('countLines', () => {
  void it('counts like iterateLines', () => {
    for (const text of ['', 'a', 'a\n', 'a\n\n', '\n', '\n\n\n', 'a\nb', 'a\r\nb\r\n', 'é\n中\n😀']) {
      assert.equal(countLines(encoder.encode(text)), lines(text).length, JSON.stringify(text));
    }
  });
});

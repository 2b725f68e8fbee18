import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeWire,
  decodeWireBytes,
  encodeWire,
  encodeWireBytes,
  normalizeInteger,
  MAX_INTEGER_DIGITS,
  MAX_TOTAL_INTEGER_DIGITS,
  parseJsonText,
  stringifyJson,
} from '../src/json-codec.js';
import { ValueTooLargeError } from '../src/errors.js';

const TWO_53_PLUS_1 = 9007199254740993n;

void describe('wire format', () => {
  void it('writes a bigint as {"$bigint":"<digits>"}', () => {
    assert.equal(encodeWire(TWO_53_PLUS_1), '{"$bigint":"9007199254740993"}');
    assert.equal(encodeWire({ n: -5n }), '{"n":{"$bigint":"-5"}}');
  });

  void it('refuses a value nested too deep to encode with a ValueTooLargeError', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    assert.throws(() => encodeWire(deep), (err: unknown) => err instanceof ValueTooLargeError && err.code === 'VALUE_TOO_LARGE');
    assert.throws(() => encodeWireBytes([deep, 2n]), ValueTooLargeError);
  });

  void it('writes values without bigints as plain JSON', () => {
    const value = { a: 1, b: [1.5, 'x', null, true], c: { d: 'e' } };
    assert.equal(encodeWire(value), JSON.stringify(value));
  });

  void it('round-trips nested bigints, keeping the bigint type', () => {
    const value = { a: [1n, 2 ** 60, { b: -(2n ** 100n), c: 'text 12345678901234567890' }], d: 0.1, e: null };
    assert.deepEqual(decodeWire(encodeWire(value)), value);
    assert.deepEqual(decodeWireBytes(encodeWireBytes(value)), value);
  });

  void it('round-trips a top-level bigint and plain values', () => {
    assert.equal(decodeWire(encodeWire(2n ** 64n)), 2n ** 64n);
    for (const value of [0, -1.25, 'a', true, null, [], {}]) assert.deepEqual(decodeWire(encodeWire(value)), value);
  });

  void it('returns user objects shaped like the envelope as they were', () => {
    const values: unknown[] = [
      { $bigint: '123' },
      [{ $bigint: '123' }, 5n, { $$bigint: '7', x: { $$$bigint: 1 } }],
      { a: { $bigint: '-9' }, b: 2n ** 70n, c: ['$bigint', 'bigint"'] },
      { before: 1, $bigint: '1', after: 2 },
    ];
    for (const value of values) {
      assert.deepEqual(decodeWire(encodeWire(value)), value, JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
    }
    // Key order is kept, escaped or not.
    assert.deepEqual(Object.keys(decodeWire(encodeWire({ before: 1, $bigint: '1', after: 2 })) as object), ['before', '$bigint', 'after']);
    assert.equal(encodeWire({ $bigint: '123' }), '{"$$bigint":"123"}');
  });

  void it('leaves objects that merely resemble the envelope alone', () => {
    assert.deepEqual(decodeWire('{"$bigint":"12","other":1}'), { $bigint: '12', other: 1 });
    assert.deepEqual(decodeWire('{"$bigint":"12x"}'), { $bigint: '12x' });
    assert.deepEqual(decodeWire('{"$bigint":12}'), { $bigint: 12 });
    assert.deepEqual(decodeWire('["$bigint"]'), ['$bigint']);
  });

  void it('decodes bigints in deeply nested values', () => {
    let value: unknown = 2n ** 64n;
    for (let i = 0; i < 1000; i++) value = i % 2 === 0 ? [value] : { k: value };
    assert.deepEqual(decodeWire(encodeWire(value)), value);
  });

  void it('rejects values without a JSON representation', () => {
    assert.throws(() => encodeWire(undefined), TypeError);
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic['self'] = cyclic;
    assert.throws(() => encodeWire(cyclic), TypeError);
  });
});

void describe('parseJsonText', () => {
  void it('parses 2^53+1 exactly as a bigint', () => {
    assert.equal(parseJsonText('9007199254740993'), TWO_53_PLUS_1);
    assert.deepEqual(parseJsonText('{"a":[9007199254740993,-9007199254740993,1]}'), {
      a: [TWO_53_PLUS_1, -TWO_53_PLUS_1, 1],
    });
  });

  void it('keeps safe integers (also with 16 digits) as numbers', () => {
    assert.equal(parseJsonText('9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.deepEqual(parseJsonText('[9007199254740991, 1, 9007199254740992]'), [
      Number.MAX_SAFE_INTEGER,
      1,
      9007199254740992n,
    ]);
  });

  void it('leaves floats untouched, also with long digit runs', () => {
    assert.deepEqual(parseJsonText('[0.1, 1e20, -2.5e-3, 3.14159265358979323846]'), [0.1, 1e20, -2.5e-3, Math.PI]);
    assert.equal(parseJsonText('12345678901234567890.5'), Number('12345678901234567890.5'));
  });

  void it('treats only integer literals of 16+ digits as candidates for bigint', () => {
    const floats = '[0.3333333333333333, 12345678901234567.5, 1234567890123456789e2, 1E-1234567890123456]';
    assert.deepEqual(parseJsonText(floats), JSON.parse(floats));
    assert.deepEqual(parseJsonText('[0.5,-12345678901234567890]'), [0.5, -12345678901234567890n]);
  });

  void it('leaves strings containing digits untouched', () => {
    assert.deepEqual(parseJsonText('{"id":"12345678901234567890","n":12345678901234567890}'), {
      id: '12345678901234567890',
      n: 12345678901234567890n,
    });
  });

  void it('behaves like JSON.parse otherwise, on both paths', () => {
    const text = '{"a":{"b":[true,false,null,"\\u00e9\\n"]},"a2":1,"a2":2}';
    assert.deepEqual(parseJsonText(text), JSON.parse(text));
    const slow = '{"big":12345678901234567890,"a":{"b":[true,false,null,"\\u00e9\\n"]},"a2":1,"a2":2}';
    assert.deepEqual(parseJsonText(slow), { ...(JSON.parse(slow) as object), big: 12345678901234567890n });
  });

  void it('rejects numbers beyond a double, and integers of too many digits', () => {
    for (const text of ['1e400', '[1, -1E+309]', '{"a": 1.5e0400}', `${'1'.repeat(400)}.5`, `[${'9'.repeat(300)}e10]`, `${'9'.repeat(299)}.0e10`]) {
      assert.throws(() => parseJsonText(text), /beyond the range of a double/, text);
    }
    assert.deepEqual(parseJsonText('[1e308, 1e-400, 1e100]'), [1e308, 0, 1e100]);
    const longest = '9'.repeat(MAX_INTEGER_DIGITS);
    assert.equal(parseJsonText(`-${longest}`), -BigInt(longest));
    assert.throws(() => parseJsonText(`[${longest}9]`), /more than 32768 digits/);
    const many = `[${Array.from({ length: MAX_TOTAL_INTEGER_DIGITS / MAX_INTEGER_DIGITS + 1 }, () => longest).join(',')}]`;
    assert.throws(() => parseJsonText(many), /digits together/);
  });

  void it('throws a SyntaxError on invalid JSON, on both paths', () => {
    assert.throws(() => parseJsonText('{"a":'), SyntaxError);
    assert.throws(() => parseJsonText('[12345678901234567890,'), SyntaxError);
  });

  void it('rejects prototype poisoning, on both paths', () => {
    const bodies = [
      '{"__proto__":{"admin":true}}',
      '{"a":[{"__proto__":{}}]}',
      '{"\\u005f_proto__":{}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"a":{"constructor":{"prototype":{}}},"n":12345678901234567890}',
      '{"n":12345678901234567890,"__proto__":{"x":1}}',
    ];
    for (const body of bodies) {
      assert.throws(() => parseJsonText(body), (error: unknown) => {
        assert.ok(error instanceof SyntaxError);
        assert.match(error.message, /prototype poisoning/);
        return true;
      }, body);
    }
  });

  void it('accepts harmless uses of those words', () => {
    assert.deepEqual(parseJsonText('{"constructor":"x","text":"__proto__"}'), { constructor: 'x', text: '__proto__' });
    assert.deepEqual(parseJsonText('{"constructor":{"name":"x"}}'), { constructor: { name: 'x' } });
  });
});

void describe('stringifyJson', () => {
  void it('writes bigints as plain integer literals', () => {
    assert.equal(stringifyJson(TWO_53_PLUS_1), '9007199254740993');
    assert.equal(stringifyJson({ a: [1n, -(2n ** 70n)], b: 'x' }), '{"a":[1,-1180591620717411303424],"b":"x"}');
  });

  void it('is JSON.stringify without bigints', () => {
    const value = { a: 1, b: [0.5, 'x"y', null], c: { d: false } };
    assert.equal(stringifyJson(value), JSON.stringify(value));
  });

  void it('leaves strings containing digits untouched', () => {
    assert.equal(stringifyJson({ s: '12345678901234567890', n: 12345678901234567890n }), '{"s":"12345678901234567890","n":12345678901234567890}');
  });

  void it('round-trips with parseJsonText', () => {
    const value = { big: 2n ** 80n, list: [1, 2.5, -(2n ** 53n) - 1n], text: '99999999999999999999' };
    assert.deepEqual(parseJsonText(stringifyJson(value)), value);
  });

  void it('rejects values without a JSON representation', () => {
    assert.throws(() => stringifyJson(undefined), TypeError);
  });
});

void describe('normalizeInteger', () => {
  void it('returns safe bigints as numbers and keeps the others', () => {
    assert.equal(normalizeInteger(5n), 5);
    assert.equal(normalizeInteger(-9007199254740991n), -9007199254740991);
    assert.equal(normalizeInteger(9007199254740991n), 9007199254740991);
    assert.equal(normalizeInteger(9007199254740992n), 9007199254740992n);
    assert.equal(normalizeInteger(-9007199254740992n), -9007199254740992n);
  });
});

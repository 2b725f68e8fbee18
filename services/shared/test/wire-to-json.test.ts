import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeWire, stringifyJson } from '../src/json-codec.js';
import { wireToJson } from '../src/wire-to-json.js';

/** A small deterministic random source. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const TRICKY_STRINGS = ['$bigint', '$$bigint', '$$$bigint', '{"$bigint":"1"}', '\\"$bigint\\":', 'a"b\\c', '$', '$$', 'bigint"', 'é漢字😀', ''];
const TRICKY_KEYS = ['$bigint', '$$bigint', '$$$bigint', 'bigint', '$', 'a', 'é', '"$bigint"', '$bigin', '$$bigintx'];

function value(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 6 : 9));
  switch (pick) {
    case 0:
      return BigInt(Math.floor(next() * 1e6)) * 10n ** BigInt(Math.floor(next() * 30)) * (next() < 0.5 ? -1n : 1n);
    case 1:
      return Math.floor(next() * 1e6) / (next() < 0.5 ? 1 : 7);
    case 2:
      return TRICKY_STRINGS[Math.floor(next() * TRICKY_STRINGS.length)];
    case 3:
      return next() < 0.5 ? null : next() < 0.5;
    case 4:
      return 'x'.repeat(Math.floor(next() * 40)) + '$'.repeat(Math.floor(next() * 4)) + 'bigint';
    case 5:
      return BigInt(Math.floor(next() * 100));
    case 6:
    case 7:
      return Array.from({ length: Math.floor(next() * 5) }, () => value(next, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i--) object[TRICKY_KEYS[Math.floor(next() * TRICKY_KEYS.length)] as string] = value(next, depth + 1);
      return object;
    }
  }
}

/** `bytes` cut at random places, one byte long chunks among them. */
function* cut(bytes: Uint8Array, next: () => number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; ) {
    const size = next() < 0.3 ? 1 : 1 + Math.floor(next() * 24);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function transcode(text: string, next: () => number): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of wireToJson(cut(Buffer.from(text), next))) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString('utf8');
}

void describe('wire text streamed as client JSON', () => {
  void it('gives what decoding and writing the value gives, for values with every tricky part, cut anywhere', async () => {
    const next = random(42);
    for (let round = 0; round < 3000; round++) {
      const original = value(next, 0);
      const wire = encodeWire(original);
      assert.equal(await transcode(wire, next), stringifyJson(original), wire);
    }
  });

  void it('writes a large list of bigints as digits', async () => {
    const list = Array.from({ length: 10_000 }, (_, i) => 2n ** 64n + BigInt(i));
    const wire = encodeWire(list);
    assert.equal(await transcode(wire, random(7)), stringifyJson(list));
    assert.equal((JSON.parse(await transcode(wire, random(8))) as unknown[]).length, 10_000);
  });

  void it('refuses malformed envelopes', async () => {
    for (const text of ['{"$bigint":1}', '{"$bigint":"12a"}', '{"$bigint":"1","x":2}', '["$bigint":"1"]', '{"$bigint":"1"']) {
      await assert.rejects(transcode(text, random(1)), /malformed wire text/, text);
    }
  });
});

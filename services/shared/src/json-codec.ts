/**
 * JSON encoding and decoding that keeps integers beyond 2^53 exact.
 *
 * In memory such integers are JS `bigint`s. Two text forms exist:
 *
 * - the internal NATS **wire** format (`encodeWire` / `decodeWire`): plain JSON in
 *   which a bigint is written as `{"$bigint":"<digits>"}`, so that any JSON parser
 *   can read it and the type survives a round trip;
 * - the **user** format (`parseJsonText` / `stringifyJson`, HTTP bodies): standard
 *   JSON in which big integers are plain number literals, read back exactly.
 *
 * Every function has a fast path that uses the native `JSON` functions only, and
 * falls back to slower machinery only when big integers are actually involved.
 */
import { randomBytes } from 'node:crypto';
import { parse as parseLossless } from 'lossless-json';
import { ValueTooLargeError } from './errors.js';

/** A JSON value as Weft holds it in memory: integers beyond 2^53 are `bigint`s. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue };

/** The only key of the object that stands for a bigint in the wire format. */
export const WIRE_BIGINT_KEY = '$bigint';

/**
 * Found in every wire text holding a bigint envelope or a key that had to be escaped;
 * a text without it is plain JSON.
 */
const WIRE_MARKER = 'bigint"';

/**
 * Whether `text` may hold the marker. A search for one character is some twenty times
 * quicker than for several, and `$` is rare: most texts are cleared by it alone.
 */
function mayHoldMarker(text: string): boolean {
  return text.includes('$') && text.includes(WIRE_MARKER);
}

/** Keys of user objects that could be mistaken for an envelope; one `$` more on the wire. */
const RESERVED_KEY = /^\$+bigint$/;
/** Those keys as the wire writes them. */
const ESCAPED_KEY = /^\$\$+bigint$/;
const INTEGER_LITERAL = /^-?\d+$/;
const MIN_SAFE_BIGINT = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * Returns `value` as a `number` when it is a safe integer (|value| <= 2^53 - 1),
 * otherwise the `bigint` itself.
 */
export function normalizeInteger(value: bigint): number | bigint {
  return value >= MIN_SAFE_BIGINT && value <= MAX_SAFE_BIGINT ? Number(value) : value;
}

// ---------------------------------------------------------------------------
// Wire format
// ---------------------------------------------------------------------------

function wireReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { [WIRE_BIGINT_KEY]: value.toString() };
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && hasKey(value, RESERVED_KEY)) {
    return renameKeys(value as Record<string, unknown>, RESERVED_KEY, (key) => `$${key}`);
  }
  return value;
}

function hasKey(node: object, pattern: RegExp): boolean {
  for (const key in node) if (pattern.test(key)) return true;
  return false;
}

/** A copy of `node` with the keys matching `pattern` renamed, in the same order. */
function renameKeys(node: Record<string, unknown>, pattern: RegExp, rename: (key: string) => string): Record<string, unknown> {
  const renamed: Record<string, unknown> = {};
  for (const key in node) Object.defineProperty(renamed, pattern.test(key) ? rename(key) : key, { value: node[key], enumerable: true, writable: true, configurable: true });
  return renamed;
}

/** The bigint an object of exactly the shape `{"$bigint":"<digits>"}` stands for, else undefined. */
function unwrapBigint(node: object): bigint | undefined {
  if (Array.isArray(node)) return undefined;
  const digits = (node as Record<string, unknown>)[WIRE_BIGINT_KEY];
  if (typeof digits !== 'string' || !INTEGER_LITERAL.test(digits)) return undefined;
  for (const key in node) if (key !== WIRE_BIGINT_KEY) return undefined;
  return BigInt(digits);
}

/**
 * What a parsed wire node stands for: a bigint for an envelope, a copy with its keys
 * unescaped for an object that had reserved keys, else the node itself.
 */
function revive(node: object): unknown {
  const big = unwrapBigint(node);
  if (big !== undefined) return big;
  if (!Array.isArray(node) && hasKey(node, ESCAPED_KEY)) return renameKeys(node as Record<string, unknown>, ESCAPED_KEY, (key) => key.slice(1));
  return node;
}

/**
 * Replaces bigint envelopes by bigints and unescapes reserved keys, in place. An
 * iterative walk after a native JSON.parse: several times faster than a JSON.parse
 * reviver, and safe for deep nesting.
 */
function reviveWire(root: unknown): unknown {
  if (typeof root !== 'object' || root === null) return root;
  const top = revive(root);
  if (typeof top !== 'object' || top === null) return top;
  const stack: object[] = [top];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      // Indexed: a for…in over a long list walks its indices as strings.
      const list = node as unknown[];
      for (let i = 0; i < list.length; i++) {
        const child = list[i];
        if (typeof child === 'object' && child !== null) list[i] = reviveChild(child, stack);
      }
    } else {
      const record = node as Record<string, unknown>;
      for (const key in record) {
        const child = record[key];
        if (typeof child === 'object' && child !== null) record[key] = reviveChild(child, stack);
      }
    }
  }
  return top;
}

/** What `child` stands for (see {@link revive}); an object to walk is pushed on `stack`. */
function reviveChild(child: object, stack: object[]): unknown {
  const revived = revive(child);
  if (typeof revived === 'object' && revived !== null) stack.push(revived);
  return revived;
}

/**
 * Encodes a value in the internal wire format: JSON where every bigint is written
 * as `{"$bigint":"<digits>"}`, and a key of a user object that could be mistaken for
 * that (`$bigint`, `$$bigint`, …) gets one `$` more, so every value comes back as it was.
 *
 * @throws TypeError when the value has no JSON representation (e.g. `undefined`)
 *   or contains a cycle.
 * @throws ValueTooLargeError when its JSON would be longer than a string may be, or
 *   it is nested too deep to encode.
 */
export function encodeWire(value: unknown): string {
  try {
    return encode(value);
  } catch (error) {
    // JSON longer than a string may be, or nested deeper than the stack goes.
    if (error instanceof RangeError) throw new ValueTooLargeError(`a value cannot be encoded as JSON: ${error.message}`, { cause: error });
    throw error;
  }
}

function encode(value: unknown): string {
  let text: string | undefined;
  try {
    // Fast path: native stringify throws a TypeError on the first bigint it meets.
    text = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return requireText(JSON.stringify(value, wireReplacer), value);
  }
  // Without bigints, only a reserved key needs the slow path; the marker finds any.
  if (text !== undefined && mayHoldMarker(text)) text = JSON.stringify(value, wireReplacer);
  return requireText(text, value);
}

/**
 * Decodes the internal wire format produced by {@link encodeWire}.
 *
 * @throws SyntaxError when the text is not valid JSON.
 */
export function decodeWire(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return mayHoldMarker(text) ? reviveWire(value) : value;
}

/**
 * A value already in the wire format, as UTF-8 bytes. The engine passes large task
 * values around in this form between the thread pool and the stores, so that they
 * are encoded once (on the thread that produced them) and cross between threads as
 * bytes instead of as objects or strings.
 */
export class WireBytes {
  constructor(
    /** The value, as {@link encodeWireBytes} writes it. */
    readonly bytes: Uint8Array,
  ) {}
}

/** {@link encodeWire} followed by UTF-8 encoding, for NATS payloads. */
export function encodeWireBytes(value: unknown): Uint8Array {
  return textEncoder.encode(encodeWire(value));
}

/** UTF-8 decoding followed by {@link decodeWire}, for NATS payloads. */
export function decodeWireBytes(bytes: Uint8Array): unknown {
  return decodeWire(textDecoder.decode(bytes));
}

// ---------------------------------------------------------------------------
// User JSON
// ---------------------------------------------------------------------------

/**
 * An integer literal of 16 or more digits (a safe integer has at most 16). Digit runs
 * that belong to a float (after a `.`, or before a `.` or an exponent) do not count, so
 * ordinary floats such as 0.3333333333333333 keep the native fast path. May also match
 * inside strings, which only costs the slower parse.
 */
const LONG_INTEGER_LITERAL = /(?<![\d.])\d{16,}(?![\d.eE])/;

/**
 * A number literal that may lie beyond a double's range (±1.8e308): 200 digits or
 * more before any `.` (with an exponent of two digits at most, fewer cannot get
 * there), or an exponent of three digits. Such texts take the slower parse, which
 * checks every number.
 */
const HUGE_NUMBER_LITERAL = /(?<![\d.])\d{200,}|[eE]\+?\d{3}/;

/**
 * Most digits of one integer in user JSON, and of all its integers beyond 2^53
 * together: room for F(100000) (20,899 digits), while converting them all between
 * text and bigint takes some tens of milliseconds, not seconds.
 */
export const MAX_INTEGER_DIGITS = 32_768;
export const MAX_TOTAL_INTEGER_DIGITS = 8 * MAX_INTEGER_DIGITS;

// Keys that can poison prototypes, also when spelled with \u escapes
// (the same detection as secure-json-parse).
const PROTO_KEY =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/;
const CONSTRUCTOR_KEY =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/;

/** A lossless-json number parser: unsafe integer literals become bigint, the rest numbers; each parse counts its own digits. */
function numberLiteralParser(): (literal: string) => number | bigint {
  let totalDigits = 0;
  return (literal) => {
    const value = Number(literal);
    if (Number.isSafeInteger(value)) return value;
    if (!INTEGER_LITERAL.test(literal)) {
      if (!Number.isFinite(value)) throw new SyntaxError(`the number ${abbreviate(literal)} lies beyond the range of a double (±1.8e308)`);
      return value;
    }
    const digits = literal.length - (literal.startsWith('-') ? 1 : 0);
    totalDigits += digits;
    if (digits > MAX_INTEGER_DIGITS) throw new SyntaxError(`the integer ${abbreviate(literal)} has more than ${MAX_INTEGER_DIGITS} digits`);
    if (totalDigits > MAX_TOTAL_INTEGER_DIGITS) {
      throw new SyntaxError(`the integers beyond 2^53 have more than ${MAX_TOTAL_INTEGER_DIGITS} digits together`);
    }
    return BigInt(literal);
  };
}

function abbreviate(literal: string): string {
  return literal.length <= 40 ? literal : `${literal.slice(0, 20)}…${literal.slice(-10)} (${literal.length} characters)`;
}

/** Like JSON.parse: the last of duplicate keys wins. */
function keepLastDuplicate(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Throws when a parsed document contains a `__proto__` key or a `constructor.prototype`. */
function rejectPrototypePoisoning(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node) {
        if (typeof item === 'object' && item !== null) stack.push(item);
      }
      continue;
    }
    if (Object.hasOwn(node, '__proto__')) {
      throw new SyntaxError('JSON object contains a forbidden "__proto__" key (prototype poisoning)');
    }
    if (Object.hasOwn(node, 'constructor')) {
      const ctor = (node as Record<string, unknown>)['constructor'];
      if (typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) {
        throw new SyntaxError('JSON object contains a forbidden "constructor.prototype" key (prototype poisoning)');
      }
    }
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
}

/**
 * Parses user JSON (e.g. an HTTP body). Integer literals that are not safe integers
 * become `bigint`; everything else is exactly what `JSON.parse` returns (floats and
 * exponent notation such as `1e20` stay numbers; the last of duplicate keys wins).
 *
 * @throws SyntaxError when the text is not valid JSON, holds a number beyond a
 *   double's range or integers of too many digits (see {@link MAX_INTEGER_DIGITS}), or
 *   when an object has a `__proto__` key or a `constructor` object with a
 *   `prototype` key.
 */
export function parseJsonText(text: string): unknown {
  const value: unknown = LONG_INTEGER_LITERAL.test(text) || HUGE_NUMBER_LITERAL.test(text)
    ? parseLossless(text, null, { parseNumber: numberLiteralParser(), onDuplicateKey: keepLastDuplicate })
    : JSON.parse(text);
  if (PROTO_KEY.test(text) || CONSTRUCTOR_KEY.test(text)) rejectPrototypePoisoning(value);
  return value;
}

/** Marks a bigint inside native JSON output; random so user strings cannot forge it. */
const BIGINT_SENTINEL = `@weft-bigint:${randomBytes(12).toString('hex')}:`;
const QUOTED_SENTINEL = new RegExp(`"${BIGINT_SENTINEL}(-?\\d+)"`, 'g');

/**
 * Serialises a value as user JSON (e.g. an HTTP response): bigints are written as
 * plain integer literals, everything else as `JSON.stringify` does.
 *
 * @throws TypeError when the value has no JSON representation (e.g. `undefined`)
 *   or contains a cycle.
 */
export function stringifyJson(value: unknown): string {
  let text: string | undefined;
  try {
    // Fast path: native stringify throws a TypeError on the first bigint it meets.
    text = JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    let sawBigint = false;
    text = JSON.stringify(value, (_key: string, item: unknown): unknown => {
      if (typeof item !== 'bigint') return item;
      sawBigint = true;
      return BIGINT_SENTINEL + item.toString();
    });
    if (sawBigint && text !== undefined) text = text.replace(QUOTED_SENTINEL, '$1');
  }
  return requireText(text, value);
}

function requireText(text: string | undefined, value: unknown): string {
  if (text === undefined) throw new TypeError(`a value of type ${typeof value} has no JSON representation`);
  return text;
}

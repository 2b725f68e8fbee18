/**
 * Rewrites wire-format text (see `encodeWire`) as the JSON a client gets (see
 * `stringifyJson`) as it streams by, without parsing it: a bigint envelope
 * `{"$bigint":"<digits>"}` becomes its digits, and an escaped key `"$$…bigint"` loses
 * one `$`. The wire text is what `JSON.stringify` wrote, so both can only be where
 * this looks for them: outside strings (a quote inside a string is escaped), and a
 * user's key is never `"$bigint"` on the wire (it is escaped). The result equals
 * `stringifyJson(decodeWire(text))`, byte for byte, in time linear in the text.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** What follows the `$`s of a candidate key: `bigint` and the string's closing quote. */
const WORD = new TextEncoder().encode('bigint"');

type State =
  /** Between tokens, or in a number or literal. */
  | 'outside'
  | 'string'
  /** In a string, after a backslash. */
  | 'escape'
  /** After a `{`, held back: it is dropped if an envelope follows. */
  | 'brace'
  /** At the start of a string that may be `"$…bigint"`: counting its `$`s. */
  | 'dollars'
  /** Matching `bigint"` after them. */
  | 'word'
  /** After `"$…bigint"`: a key if a `:` follows. */
  | 'colon'
  /** In an envelope, after `{"$bigint":`, before the digits' opening quote. */
  | 'digitsOpen'
  | 'digits'
  /** After the digits' closing quote, before the envelope's `}`. */
  | 'digitsClose';

/** Streams `chunks` of wire text as client JSON (see the file comment). @throws Error when an envelope is malformed */
export async function* wireToJson(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let state: State = 'outside';
  /** Whether a `{` is held back (from state `brace` on, while a candidate is matched). */
  let brace = false;
  let dollars = 0;
  let matched = 0;
  /** Output of the current chunk, and how much of it is written. */
  let out = Buffer.alloc(0);
  let n = 0;
  /** Writes the candidate string's start as it was (or with one `$` fewer), and what was held. */
  const release = (dropDollar: boolean) => {
    if (brace) out[n++] = OPEN_BRACE;
    brace = false;
    out[n++] = QUOTE;
    const kept = dropDollar ? dollars - 1 : dollars;
    out.fill(DOLLAR, n, n + kept);
    n += kept;
    out.set(WORD.subarray(0, matched), n);
    n += matched;
    dollars = 0;
    matched = 0;
  };
  for await (const chunk of chunks) {
    // Held bytes come out with this chunk: at most a brace, a quote, the `$`s and the word.
    out = Buffer.allocUnsafe(chunk.length + dollars + WORD.length + 2);
    n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      // Each case either consumes the byte (continue) or changes the state and lets
      // the byte be looked at again (the loop's `i--`).
      switch (state) {
        case 'outside':
          if (byte === OPEN_BRACE) {
            brace = true;
            state = 'brace';
          } else if (byte === QUOTE) {
            state = 'dollars';
          } else {
            out[n++] = byte;
          }
          continue;
        case 'brace':
          if (byte === QUOTE) {
            state = 'dollars';
            continue;
          }
          out[n++] = OPEN_BRACE;
          brace = false;
          state = 'outside';
          i--;
          continue;
        case 'dollars':
          if (byte === DOLLAR) {
            dollars++;
            continue;
          }
          if (dollars > 0) {
            state = 'word';
            i--;
            continue;
          }
          release(false);
          state = 'string';
          i--;
          continue;
        case 'word':
          if (byte === WORD[matched]) {
            matched++;
            if (matched === WORD.length) state = 'colon';
            continue;
          }
          // Not the candidate: the string goes on (or has just ended) as it was.
          release(false);
          state = 'string';
          i--;
          continue;
        case 'colon':
          if (byte !== COLON) {
            // A value, not a key: the string has ended.
            release(false);
            state = 'outside';
            i--;
            continue;
          }
          if (dollars === 1) {
            // `{"$bigint":` — an envelope; its brace is dropped.
            if (!brace) throw new Error('malformed wire text: "$bigint" outside an envelope');
            brace = false;
            dollars = 0;
            matched = 0;
            state = 'digitsOpen';
            continue;
          }
          release(true);
          out[n++] = COLON;
          state = 'outside';
          continue;
        case 'digitsOpen':
          if (byte !== QUOTE) throw new Error('malformed wire text: an envelope without its digits');
          state = 'digits';
          continue;
        case 'digits':
          if (byte === QUOTE) state = 'digitsClose';
          else if (byte === MINUS || (byte >= ZERO && byte <= NINE)) out[n++] = byte;
          else throw new Error('malformed wire text: an envelope with other than digits');
          continue;
        case 'digitsClose':
          if (byte !== CLOSE_BRACE) throw new Error('malformed wire text: an envelope with more than its digits');
          state = 'outside';
          continue;
        case 'string':
          out[n++] = byte;
          if (byte === BACKSLASH) state = 'escape';
          else if (byte === QUOTE) state = 'outside';
          continue;
        case 'escape':
          out[n++] = byte;
          state = 'string';
          continue;
      }
    }
    if (n > 0) yield out.subarray(0, n);
  }
  // The text cannot end inside a candidate but after a whole `"…bigint"` value string.
  if (state === 'colon') {
    out = Buffer.allocUnsafe(dollars + WORD.length + 2);
    n = 0;
    release(false);
    yield out.subarray(0, n);
  } else if (state !== 'outside') {
    throw new Error('malformed wire text: it ends inside a token');
  }
}

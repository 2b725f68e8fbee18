/**
 * Decoding text and splitting it into lines, the same way for every split of a file.
 *
 * A line ends at `\n`; a `\r` just before it is dropped (CRLF line ends). The last
 * line counts even without a final newline, so `""` has no lines, `"a"` and `"a\n"`
 * one, and `"a\n\n"` two (the second one empty).
 */

const NEWLINE = 0x0a;

// Non-fatal: invalid UTF-8 becomes U+FFFD. `ignoreBOM` keeps a leading U+FEFF, so a
// split decodes the same way whether or not it starts the file.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD and a byte order mark is kept as U+FEFF. */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Number of lines in `bytes` (see the module comment), without decoding them. */
export function countLines(bytes: Uint8Array): number {
  let count = 0;
  let from = 0;
  for (;;) {
    const newline = bytes.indexOf(NEWLINE, from);
    if (newline < 0) break;
    count++;
    from = newline + 1;
  }
  return from < bytes.length ? count + 1 : count;
}

/** The lines of a decoded text, without their `\n` or `\r\n` ends. */
export function* iterateTextLines(text: string): Generator<string, void, undefined> {
  let from = 0;
  while (from < text.length) {
    const newline = text.indexOf('\n', from);
    const end = newline < 0 ? text.length : newline;
    // Only a `\r` that ends a line before its `\n` goes: a last line's own `\r` is its text.
    yield newline >= 0 && end > from && text.charCodeAt(end - 1) === 0x0d ? text.slice(from, end - 1) : text.slice(from, end);
    if (newline < 0) return;
    from = newline + 1;
  }
}

/** The lines of UTF-8 bytes (decoded once, with {@link decodeText}), without their `\n` or `\r\n` ends. */
export function iterateLines(bytes: Uint8Array): Generator<string, void, undefined> {
  return iterateTextLines(decodeText(bytes));
}

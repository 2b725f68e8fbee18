/**
 * Conditional requests on files (RFC 9110 §13): `If-Match`, `If-None-Match`,
 * `If-Modified-Since` and `If-Unmodified-Since`, evaluated in the order of §13.2.2
 * against a file's validators — its entity tag (the quoted SHA-256 of its content,
 * a strong validator) and the time its upload finished.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What a stored file offers to compare against; `undefined` when there is no file. */
export interface FileValidators {
  /** Entity tag, quoted. */
  readonly etag: string;
  /** When the file was stored, in milliseconds since the epoch. */
  readonly modifiedMs: number;
}

/** Outcome of evaluating the preconditions of a request. */
export type PreconditionOutcome = 'proceed' | 'not-modified' | 'failed';

/** The entity tags a header lists (`*` as itself), or `undefined` without the header. */
function entityTags(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return ['*'];
  return header.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** Strong comparison: both tags strong and the same (§8.8.3.2). */
function strongMatch(tags: readonly string[], etag: string): boolean {
  return tags.some((tag) => tag === '*' || (!tag.startsWith('W/') && tag === etag));
}

/** Weak comparison: the same opaque tag, weak or not. */
function weakMatch(tags: readonly string[], etag: string): boolean {
  const bare = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
  return tags.some((tag) => tag === '*' || bare(tag) === bare(etag));
}

/**
 * The three forms of an HTTP date (§5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`, the
 * obsolete `Sunday, 06-Nov-94 08:49:37 GMT` and `Sun Nov  6 08:49:37 1994`.
 */
const HTTP_DATE = /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** An HTTP date in milliseconds, or `undefined` when it is none (then it is ignored, §13.1.3). */
function httpDate(header: string | undefined): number | undefined {
  if (header === undefined || !HTTP_DATE.test(header.trim())) return undefined;
  // Date.parse reads the asctime form in local time: it names no zone, and means GMT.
  const text = /GMT$/.test(header.trim()) ? header.trim() : `${header.trim()} GMT`;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Whether a file stored at `modifiedMs` counts as changed since `sinceMs` (HTTP dates have whole seconds). */
function modifiedSince(modifiedMs: number, sinceMs: number): boolean {
  return Math.floor(modifiedMs / 1000) * 1000 > sinceMs;
}

/**
 * Evaluates a request's preconditions against the file as it is (`undefined`: none).
 * A read (`GET`, `HEAD`) whose file has not changed is `not-modified` (304); any
 * other precondition that does not hold is `failed` (412).
 */
export function evaluatePreconditions(headers: IncomingHttpHeaders, file: FileValidators | undefined, read: boolean): PreconditionOutcome {
  const ifMatch = entityTags(headers['if-match']);
  if (ifMatch !== undefined) {
    if (file === undefined || !strongMatch(ifMatch, file.etag)) return 'failed';
  } else {
    const since = httpDate(headers['if-unmodified-since']);
    if (since !== undefined && file !== undefined && modifiedSince(file.modifiedMs, since)) return 'failed';
  }
  const ifNoneMatch = entityTags(headers['if-none-match']);
  if (ifNoneMatch !== undefined) {
    if (file !== undefined && weakMatch(ifNoneMatch, file.etag)) return read ? 'not-modified' : 'failed';
  } else if (read) {
    const since = httpDate(headers['if-modified-since']);
    if (since !== undefined && file !== undefined && !modifiedSince(file.modifiedMs, since)) return 'not-modified';
  }
  return 'proceed';
}

/** Whether the request carries any precondition. */
export function hasPreconditions(headers: IncomingHttpHeaders): boolean {
  return ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'].some((name) => headers[name] !== undefined);
}

/**
 * The codings a request body may come in: none but `chunked`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { UnsupportedContentCodingError, UnsupportedTransferCodingError } from './api-errors.js';

/** Methods whose routes take no body: one sent with them is ignored. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/**
 * The error for a request whose body comes in a coding the API does not decode, if it
 * does: bodies are taken only as they are (chunked or not). Without this check a
 * gzipped JSON body would be refused as malformed, and a gzipped upload stored as
 * the compressed bytes.
 */
export function unsupportedCoding(method: string, headers: IncomingHttpHeaders): UnsupportedContentCodingError | UnsupportedTransferCodingError | undefined {
  // Without a body, the headers say nothing that matters.
  if (headers['transfer-encoding'] === undefined && Number(headers['content-length'] ?? 0) === 0) return undefined;
  // A body the route ignores may come in any content coding; framing is another matter.
  const content = BODYLESS_METHODS.has(method) ? undefined : codings(headers['content-encoding']).find((c) => c !== 'identity');
  if (content !== undefined) return new UnsupportedContentCodingError(content);
  const transfer = codings(headers['transfer-encoding']).find((c) => c !== 'chunked');
  if (transfer !== undefined) return new UnsupportedTransferCodingError(transfer);
  return undefined;
}

/** The codings a header lists, lower-cased. */
function codings(header: string | undefined): string[] {
  return (header ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '');
}

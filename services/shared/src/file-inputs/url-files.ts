/**
 * Files over HTTP(S): probed once at submission, then read in byte ranges when the
 * server supports `Range` requests, or as a whole.
 */
import { FileChangedError, FileNotFoundError, SplitTooLargeError } from '../errors.js';
import type { ByteSource } from '../files/byte-source.js';

/** Sizes are of the bytes as stored: a body compressed on the way would not match them. */
const IDENTITY = { 'accept-encoding': 'identity' };

/** How long one HTTP request may take, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

/** What a server says about a URL. */
export interface UrlProbe {
  /** Size in bytes, when the server tells. */
  readonly size: number | null;
  /** Whether the server answers `Range` requests with partial content. */
  readonly ranged: boolean;
  /** Its strong entity tag, when the server gives one: later reads must find the same. */
  readonly etag?: string;
}

/** The strong entity tag of a response, if it has one (a weak one cannot tell versions of bytes apart). */
function strongEtag(response: Response): string | undefined {
  const etag = response.headers.get('etag')?.trim();
  return etag !== undefined && etag.startsWith('"') ? etag : undefined;
}

/**
 * Headers that make a server refuse (412) to send other bytes than those of entity
 * tag `etag`, when it is known.
 */
function sameVersion(etag: string | undefined): Record<string, string> {
  return etag === undefined ? IDENTITY : { ...IDENTITY, 'if-match': etag };
}

/**
 * Fails when a response is of another version than `etag`: refused for it (412), or
 * content with another entity tag (from a server that ignores `If-Match`). Error
 * answers are left to the caller: an error page's own tag says nothing of the file.
 */
async function checkVersion(url: string, response: Response, etag: string | undefined): Promise<void> {
  if (etag === undefined) return;
  if (response.status !== 412) {
    const now = response.ok ? strongEtag(response) : undefined;
    if (now === undefined || now === etag) return;
  }
  await response.body?.cancel();
  throw new FileChangedError(`GET ${url} is no longer the version it was when the job was submitted (entity tag ${etag})`);
}

/** Asks for the first byte of `url`, to learn its size and whether ranges work. @throws Error when the URL cannot be read */
export async function probeUrl(url: string, signal?: AbortSignal): Promise<UrlProbe> {
  const response = await fetch(url, { headers: { range: 'bytes=0-0', ...IDENTITY }, signal: withTimeout(signal) });
  await response.body?.cancel();
  const etag = strongEtag(response);
  const version = etag === undefined ? {} : { etag };
  if (response.status === 206) {
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    // Ranges of a size the server does not tell (`bytes 0-0/*`) cannot be planned.
    return total === undefined ? { size: null, ranged: false, ...version } : { size: sizeOf(url, total), ranged: true, ...version };
  }
  if (response.status === 416) return { size: 0, ranged: false, ...version };
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const length = response.headers.get('content-length');
  return { size: length === null ? null : sizeOf(url, length), ranged: false, ...version };
}

/** A size a server announced. @throws Error when it is not a byte count Weft can address */
function sizeOf(url: string, announced: string): number {
  const size = Number(announced);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`GET ${url} announced a size of ${announced} bytes, which cannot be read`);
  return size;
}

/** Random access to a URL whose server supports ranges, of the version of entity tag `etag` when given. */
export function urlByteSource(url: string, size: number, etag?: string): ByteSource {
  return {
    size,
    async read(offset, length, signal) {
      const last = Math.min(size, offset + length) - 1;
      if (last < offset) return new Uint8Array(0);
      const response = await fetchHeaders(url, { headers: { range: `bytes=${offset}-${last}`, ...sameVersion(etag) } }, signal);
      await checkVersion(url, response, etag);
      if (response.status !== 206) {
        await response.body?.cancel();
        throw answerProblem(url, response.status, `with a range answered ${response.status}, not 206`);
      }
      // Another range than the one asked for would put bytes in the wrong place.
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (Number(range?.[1]) !== offset || Number(range?.[2]) > last) {
        await response.body?.cancel();
        throw new FileChangedError(`GET ${url} answered bytes ${range?.[1] ?? '?'}-${range?.[2] ?? '?'} for bytes ${offset}-${last}`);
      }
      if (range?.[3] !== String(size)) {
        await response.body?.cancel();
        throw new FileChangedError(`GET ${url} is now ${range?.[3] ?? '?'} bytes long, not ${size} as when the job was submitted`);
      }
      const bytes = await collect(bodyOf(url, response, signal), last - offset + 1);
      // Fewer bytes than the range it named: the rest would be lost without a trace.
      if (bytes.byteLength !== Number(range[2]) - offset + 1) {
        throw new FileChangedError(`GET ${url} sent ${bytes.byteLength} bytes for bytes ${offset}-${range[2]}`);
      }
      return bytes;
    },
  };
}

/** Options of {@link readUrl}. */
export interface ReadUrlOptions {
  readonly signal?: AbortSignal;
  /**
   * The URL's size when the job was submitted, when the server said: a longer body
   * fails the read with `FileChangedError`.
   */
  readonly size?: number | null;
  /** Most bytes to take besides: a longer body fails the read with `SplitTooLargeError`. @default no limit */
  readonly maxBytes?: number;
  /** The URL's entity tag when the job was submitted: other bytes fail the read with `FileChangedError`. */
  readonly etag?: string;
}

/** The whole content of `url`, streamed. */
export async function* readUrl(url: string, options: ReadUrlOptions = {}): AsyncGenerator<Uint8Array> {
  const { signal, size, etag } = options;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const response = await fetchHeaders(url, { headers: sameVersion(etag) }, signal);
  await checkVersion(url, response, etag);
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw answerProblem(url, response.status, `answered ${response.status}`);
  }
  let total = 0;
  for await (const chunk of bodyOf(url, response, signal)) {
    total += chunk.byteLength;
    if (size !== undefined && size !== null && total > size) {
      throw new FileChangedError(`GET ${url} sent more than ${size} bytes, its size when the job was submitted`);
    }
    if (total > maxBytes) throw new SplitTooLargeError(`GET ${url} sent more than ${maxBytes} bytes, more than one split may hold`);
    yield chunk;
  }
  if (size !== undefined && size !== null && total < size) {
    throw new FileChangedError(`GET ${url} sent ${total} bytes, fewer than its size when the job was submitted (${size})`);
  }
}

/**
 * A response's body, failing when the server goes silent for {@link REQUEST_TIMEOUT_MS}
 * (a body may take longer than that in all, as long as it keeps coming).
 */
async function* bodyOf(url: string, response: Response, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      signal?.throwIfAborted();
      let timer: NodeJS.Timeout | undefined;
      const silence = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`GET ${url} sent nothing for ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
      });
      try {
        const { done, value } = await Promise.race([reader.read(), silence]);
        if (done) return;
        yield value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** `chunks` in one buffer. @throws FileChangedError when they hold more than `maxBytes`, the bytes asked for */
async function collect(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new FileChangedError(`a response held more than the ${maxBytes} bytes asked for`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * What an unexpected status says about a URL that was readable at submission: gone
 * (`FILE_NOT_FOUND`), changed (`FILE_CHANGED`: no ranges any more), or a failure that
 * may pass.
 */
function answerProblem(url: string, status: number, what: string): Error {
  if (status === 404 || status === 410) return new FileNotFoundError(url);
  if (status === 200) return new FileChangedError(`GET ${url} ${what}: the server no longer serves ranges`);
  return new Error(`GET ${url} ${what}`);
}

/** `signal`, aborted also after {@link REQUEST_TIMEOUT_MS} (the whole request: connecting, headers and body). */
function withTimeout(signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** `fetch`, failing when the response's headers take longer than {@link REQUEST_TIMEOUT_MS}; its body may take longer. */
async function fetchHeaders(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  const headers = new AbortController();
  const timer = setTimeout(() => headers.abort(new Error(`GET ${url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
  try {
    return await fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, headers.signal]) : headers.signal });
  } finally {
    clearTimeout(timer);
  }
}

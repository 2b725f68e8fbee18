/**
 * Files over HTTP(S): probed once at submission, then read in byte ranges when the
 * server supports `Range` requests, or as a whole.
 */
import type { ByteSource } from '../files/byte-source.js';

/** How long one HTTP request may take, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

/** What a server says about a URL. */
export interface UrlProbe {
  /** Size in bytes, when the server tells. */
  readonly size: number | null;
  /** Whether the server answers `Range` requests with partial content. */
  readonly ranged: boolean;
}

/** Asks for the first byte of `url`, to learn its size and whether ranges work. @throws Error when the URL cannot be read */
export async function probeUrl(url: string, signal?: AbortSignal): Promise<UrlProbe> {
  const response = await fetch(url, { headers: { range: 'bytes=0-0' }, signal: withTimeout(signal) });
  await response.body?.cancel();
  if (response.status === 206) {
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    if (total !== undefined) return { size: Number(total), ranged: true };
  }
  if (response.status === 416) return { size: 0, ranged: false };
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const length = response.headers.get('content-length');
  return { size: length === null ? null : Number(length), ranged: false };
}

/** Random access to a URL whose server supports ranges. */
export function urlByteSource(url: string, size: number): ByteSource {
  return {
    size,
    async read(offset, length, signal) {
      const last = Math.min(size, offset + length) - 1;
      if (last < offset) return new Uint8Array(0);
      const response = await fetch(url, { headers: { range: `bytes=${offset}-${last}` }, signal: withTimeout(signal) });
      if (response.status !== 206) {
        await response.body?.cancel();
        throw new Error(`GET ${url} with a range answered ${response.status}, not 206`);
      }
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/** The whole content of `url`, streamed. */
export async function* readUrl(url: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const response = await fetch(url, { signal });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  for await (const chunk of response.body) yield chunk;
}

function withTimeout(signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/**
 * A minimal Server-Sent Events client over `fetch`, for tests.
 */

/** One event as received. */
export interface ReceivedEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

/** What a stream delivered. */
export interface ReceivedStream {
  readonly status: number;
  readonly headers: Headers;
  readonly events: ReceivedEvent[];
  readonly comments: string[];
  /** The body when the response is not an event stream. */
  readonly body: string;
}

/** Options of {@link readEventStream}. */
export interface ReadOptions {
  readonly headers?: Record<string, string>;
  /** Stop reading (and disconnect) once this returns true. */
  readonly until?: (stream: ReceivedStream) => boolean;
  /** Give up after this long, in milliseconds. @default 15000 */
  readonly timeoutMs?: number;
}

function parseBlock(block: string, into: ReceivedStream): void {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  let hasField = false;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      into.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    hasField = true;
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (hasField && data.length > 0) into.events.push({ event, id, data: data.join('\n') });
}

/** Reads `url` as an event stream until the server ends it, `until` holds, or the timeout. */
export async function readEventStream(url: string, options: ReadOptions = {}): Promise<ReceivedStream> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('event stream timed out')), options.timeoutMs ?? 15_000);
  try {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...options.headers },
      signal: controller.signal,
    });
    const stream: ReceivedStream = {
      status: response.status,
      headers: response.headers,
      events: [],
      comments: [],
      body: '',
    };
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
      return { ...stream, body: await response.text() };
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        parseBlock(buffer.slice(0, end), stream);
        buffer = buffer.slice(end + 2);
      }
      // Leaving the loop cancels the body, which closes the connection.
      if (options.until?.(stream)) break;
    }
    return stream;
  } finally {
    clearTimeout(timer);
  }
}

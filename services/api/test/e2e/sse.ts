/**
 * A Server-Sent Events reader over `fetch` that parses the stream as it arrives and
 * records when each event was received, so tests can tell a live stream from one
 * delivered all at once.
 */
import { performance } from 'node:perf_hooks';

/** One event, with its arrival time. */
export interface TimedEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
  /** `performance.now()` when the end of the event was received. */
  readonly receivedAt: number;
}

/** What a stream delivered. */
export interface EventStreamResult {
  readonly status: number;
  readonly contentType: string;
  readonly events: TimedEvent[];
  /** `performance.now()` when the request was sent. */
  readonly openedAt: number;
  /** The body, when the response was not an event stream. */
  readonly body: string;
}

function parseBlock(block: string, receivedAt: number): TimedEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, id, data: data.join('\n'), receivedAt };
}

/**
 * Reads `url` as an event stream until the server ends it (or `timeoutMs` passes,
 * which fails). Blocks are split on blank lines as chunks arrive.
 */
export async function readEventStream(
  url: string,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<EventStreamResult> {
  const openedAt = performance.now();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...options.headers },
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const contentType = response.headers.get('content-type') ?? '';
  const result = { status: response.status, contentType, events: [] as TimedEvent[], openedAt, body: '' };
  if (!contentType.startsWith('text/event-stream') || response.body === null) {
    return { ...result, body: await response.text() };
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    const receivedAt = performance.now();
    buffer += decoder.decode(chunk as Uint8Array, { stream: true }).replaceAll('\r\n', '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const event = parseBlock(buffer.slice(0, end), receivedAt);
      if (event !== undefined) result.events.push(event);
      buffer = buffer.slice(end + 2);
    }
  }
  return result;
}

/**
 * HTTP helpers of the end-to-end tests: responses read in full, JSON bodies, and a
 * raw upload for requests `fetch` cannot make.
 */
import http from 'node:http';

/** A response, read in full. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  /** The body as received: assertions on exact digits look here. */
  readonly text: string;
}

/** The body of a response as JSON (integers beyond 2^53 lose precision: use `text` for those). */
export function jsonOf<T>(response: HttpResult): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new Error(`expected a JSON body, got ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

/**
 * POSTs a body of `size` bytes with its Content-Length, sending only the headers and
 * the first 64 KiB until the server answers. A server that refuses on the declared
 * length answers before the rest is sent, so the answer is not lost to a reset
 * connection (as it can be when a client writes the whole body before reading).
 */
export function postOversized(url: string, body: Buffer): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => {
      // No answer on the headers alone: send the rest (the answer may then race the upload).
      request.end(body.subarray(64 * 1024));
    }, 5000);
    request.on('response', (response) => {
      answered = true;
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === 'string') headers.set(name, value);
        }
        resolve({ status: response.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
        request.destroy();
      });
    });
    request.on('error', (err) => {
      clearTimeout(timer);
      if (!answered) reject(err);
    });
    request.write(body.subarray(0, 64 * 1024));
  });
}

/**
 * Small helpers for driving the app with `inject`.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { ApiInstance } from '../../src/index.js';

/** POSTs a JSON value (or raw text) to `url`. */
export function postJson(
  app: ApiInstance,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The JSON body of a response. */
export function bodyOf<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

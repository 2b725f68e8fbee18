/**
 * Problem details for errors fastify itself raises (or its plugins): validation,
 * body parsing, limits, URLs.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError } from 'fastify';
import type { ProblemInit, ProblemMappingOptions } from './api-errors.js';

/** A body that is not JSON (or not UTF-8, or nested too deep). */
export function malformedJson(detail: string): ProblemInit {
  return { status: 400, code: 'MALFORMED_JSON', title: 'Malformed JSON', detail, errors: [{ pointer: '', message: detail }] };
}

/** Request parts as they appear in pointers of INVALID_REQUEST problems. */
const PART_NAMES: Readonly<Record<string, string>> = {
  querystring: 'query',
  params: 'params',
  headers: 'headers',
  // Body pointers point into the body itself, like those of job specs.
  body: '',
};

/** Errors raised by fastify itself (or its plugins): validation, body parsing, limits. */
export type FrameworkError = Error & Partial<Pick<FastifyError, 'code' | 'statusCode' | 'validation' | 'validationContext'>>;

/**
 * The problem an error fastify raised becomes: validation issues with pointers into
 * the request part, body limits and parsing, bad URLs, its other 4xx with a code
 * derived from the status. `undefined` for anything else (an internal error).
 */
export function fromFrameworkError(error: FrameworkError, options: ProblemMappingOptions): ProblemInit | undefined {
  if (error.validation !== undefined) {
    const part = PART_NAMES[error.validationContext ?? ''] ?? error.validationContext ?? '';
    const errors = error.validation.map((v) => {
      const path = v.instancePath === '/' ? '' : v.instancePath;
      return { pointer: part === '' ? path : `/${part}${path}`, message: v.message ?? 'invalid value' };
    });
    const detail = errors.map((e) => `${e.pointer}: ${e.message}`).join('; ');
    return { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', detail, errors };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        code: 'BODY_TOO_LARGE',
        title: 'Request body too large',
        detail: `the request body exceeds the limit of ${options.bodyLimitBytes} bytes`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        title: 'Unsupported media type',
        detail: `${error.message}; send application/json`,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return malformedJson(error.message);
    case 'FST_ERR_BAD_URL': {
      const message = 'is not valid percent-encoded UTF-8';
      return { status: 400, code: 'INVALID_REQUEST', title: 'Invalid request', detail: `the URL path ${message}`, errors: [{ pointer: '/params', message }] };
    }
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const title = STATUS_CODES[status] ?? 'Bad request';
    const code = status === 400 ? 'INVALID_REQUEST' : title.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    return { status, code, title, detail: error.message };
  }
  return undefined;
}

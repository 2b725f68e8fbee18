/**
 * Answers to what never reaches a route, with problem details like every other
 * error: bytes that never made a request (fastify's `clientErrorHandler`), an
 * `Expect` Node.js does not meet, and an HTTP/1.1 request without `Host`.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { stringifyJson } from '@weft/shared';
import { PROBLEM_CONTENT_TYPE, problemOf, type ProblemInit } from './api-errors.js';
import type { FrameworkError } from './framework-problems.js';

/** What fastify reports of a connection whose bytes never made a request. */
interface ClientError extends Error {
  readonly code?: string;
}

/** The error of an HTTP/1.1 request without a Host header: `400 INVALID_REQUEST` at `/headers/host`. */
export function missingHost(): FrameworkError {
  return Object.assign(new Error('the Host header is missing'), {
    statusCode: 400,
    validationContext: 'headers' as const,
    validation: [{ instancePath: '/host', message: 'is required in HTTP/1.1', keyword: 'required', schemaPath: '', params: {} }],
  });
}

/**
 * Answers a request whose `Expect` header asks for something other than
 * `100-continue` (Node.js's `checkExpectation`): `417 EXPECTATION_FAILED`.
 */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const init: ProblemInit = {
    status: 417,
    code: 'EXPECTATION_FAILED',
    title: 'Expectation failed',
    detail: 'only "Expect: 100-continue" is supported',
  };
  const body = stringifyJson(problemOf(init, request.url ?? ''));
  response.writeHead(init.status, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

/**
 * Answers what never became a request — bytes that are not HTTP, headers too large,
 * a request not received in time — with problem details like every other error
 * (fastify's `clientErrorHandler`), then closes the connection.
 */
export function answerClientError(error: ClientError, socket: Duplex): void {
  // A connection reset has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A request answered already (refused for its framing, say, before its body broke
  // the parser) is not answered twice; Node.js's own handler tells it the same way.
  if (answered(socket)) {
    socket.destroy(error);
    return;
  }
  const init: ProblemInit =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? { status: 408, code: 'REQUEST_TIMEOUT', title: 'Request timeout', detail: 'the request did not arrive in time' }
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, code: 'HEADERS_TOO_LARGE', title: 'Request header fields too large', detail: 'the request headers exceed 16 KiB' }
        : {
            status: 400,
            code: 'MALFORMED_REQUEST',
            title: 'Bad request',
            detail: `the request is not valid HTTP/1.1 (${error.code ?? error.message})`,
          };
  const body = stringifyJson(problemOf(init, ''));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${init.status} ${STATUS_CODES[init.status] ?? init.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Whether a response on the connection has sent its head: Node.js keeps it on the socket as `_httpMessage`. */
function answered(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
}

/**
 * Error responses. Every error a request can end in is turned into RFC 9457 problem
 * details (`application/problem+json`) here, and only here are error HTTP statuses
 * assigned.
 *
 * Status mapping:
 * - 400: INVALID_SPEC, INVALID_TASK_ARGS, UNKNOWN_TASK, MALFORMED_JSON, INVALID_REQUEST
 *   (query or path parameters), SPEC_LIMIT_EXCEEDED for `maxDepth`;
 * - 413: SPEC_LIMIT_EXCEEDED for the size-like limits (`maxNodes`, `maxChunks`, `maxTasks`), and
 *   BODY_TOO_LARGE (more than `bodyLimitBytes`);
 * - 415: UNSUPPORTED_MEDIA_TYPE (only `application/json` bodies are accepted, and by
 *   the file routes any media type, but not a `Content-Type` that is not one; and no
 *   body in a content coding such as gzip);
 * - 501: UNSUPPORTED_TRANSFER_CODING (a body in a transfer coding other than chunked);
 * - answered before routing (see connection-errors.ts): 400 MALFORMED_REQUEST (not
 *   HTTP/1.1), 408 REQUEST_TIMEOUT, 431 HEADERS_TOO_LARGE; and for Node.js's
 *   `checkExpectation`: 417 EXPECTATION_FAILED;
 * - 404: JOB_NOT_FOUND, NOT_FOUND (no such route), POOL_NOT_FOUND (no such worker pool);
 * - 405: METHOD_NOT_ALLOWED (the path exists for other methods; with `Allow`);
 * - 409: JOB_ENDED (a job to cancel succeeded or failed first), POOL_AUTOSCALED (the
 *   pool's replicas belong to an HPA or KEDA);
 * - 422: IDEMPOTENCY_KEY_REUSED (an `Idempotency-Key` sent before with another body);
 * - 410: VALUE_NOT_FOUND (a finished job's result has expired from the object store);
 * - 400: INVALID_FILE_NAME, INVALID_FILE_INPUT (a job's input files cannot be resolved);
 *   404: FILE_NOT_FOUND; 409: FILE_CHANGED (replaced while read); 413: FILE_TOO_LARGE;
 *   416: RANGE_NOT_SATISFIABLE; 412: PRECONDITION_FAILED (a conditional file request);
 * - 501: CLUSTER_UNAVAILABLE (no Kubernetes cluster: the API runs outside one and has
 *   no kubeconfig; this API instance cannot scale pools, so retrying will not help);
 * - 502: KUBERNETES_FORBIDDEN (the cluster denied a call: RBAC), KUBERNETES_API_ERROR
 *   (unreachable, timed out, unexpected answer), POOL_DEPLOYMENT_NOT_FOUND (a
 *   configured pool's Deployment is missing); the Kubernetes details are logged, not shown;
 * - 503: NOT_READY (NATS or JetStream unreachable, from `/readyz`), NATS_UNAVAILABLE
 *   (NATS did not answer a request's reads or writes; with `Retry-After`);
 * - other 4xx raised by fastify keep their status, with a code derived from it;
 * - anything else: 500 INTERNAL_ERROR, detail "internal error"; the error is logged
 *   with the request id but never shown.
 *
 * Pointers of INVALID_REQUEST issues point into the body (`/replicas`), or into the
 * query or path parameters with a prefix (`/query/wait`, `/params/pool`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  FileChangedError,
  PreconditionFailedError,
  FileInputError,
  FileNotFoundError,
  FileTooLargeError,
  InvalidFileNameError,
  InvalidSpecError,
  RangeNotSatisfiableError,
  InvalidTaskArgsError,
  isNatsUnavailable,
  JobEndedError,
  JobNotFoundError,
  MalformedJsonError,
  SpecLimitError,
  stringifyJson,
  UnknownTaskError,
  ValueNotFoundError,
  WeftError,
  type InputIssue,
} from '@weft/shared';
import {
  ClusterUnavailableError,
  KubernetesError,
  PoolAutoscaledError,
  PoolDeploymentNotFoundError,
  PoolNotFoundError,
} from './cluster/cluster-errors.js';
import { fromFrameworkError, malformedJson } from './framework-problems.js';
import { IdempotencyKeyReusedError } from './jobs/submission-keys.js';
import type { Problem, ProblemIssue } from './schemas.js';

/** Base of problem `type` URIs; the code in kebab case is appended. */
export const PROBLEM_TYPE_BASE = 'https://weft.dev/problems/';

/** Media type of error responses. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** No route matches the request. */
export class RouteNotFoundError extends WeftError {
  readonly code = 'NOT_FOUND';
  constructor(method: string, url: string) {
    super(`no route for ${method} ${url.split('?')[0] ?? url}`);
  }
}

/** A route path exists, but does not answer the request's method. */
export class MethodNotAllowedError extends WeftError {
  readonly code = 'METHOD_NOT_ALLOWED';
  constructor(
    method: string,
    url: string,
    /** The methods the path answers. */
    readonly allowed: readonly string[],
  ) {
    super(`${url.split('?')[0] ?? url} does not answer ${method}; it answers ${allowed.join(', ')}`);
  }
}

/** A request body's `Content-Type` is not a media type (`type/subtype`). */
export class InvalidMediaTypeError extends WeftError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(contentType: string) {
    super(`the Content-Type ${JSON.stringify(contentType)} is not a media type such as text/plain; send a valid one, or none`);
  }
}

/** An upload carries `Content-Range`: a file is only ever uploaded whole. */
export class PartialUploadError extends WeftError {
  readonly code = 'INVALID_REQUEST';
  constructor() {
    super('partial uploads (Content-Range) are not supported: upload the whole file');
  }
}

/** A request body comes in a content coding (`Content-Encoding: gzip`, say): bodies are taken only as they are. */
export class UnsupportedContentCodingError extends WeftError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(readonly coding: string) {
    super(`the request body is in the content coding ${JSON.stringify(coding)}; send it as it is, without Content-Encoding`);
  }
}

/** A request body comes in a transfer coding other than `chunked`. */
export class UnsupportedTransferCodingError extends WeftError {
  readonly code = 'UNSUPPORTED_TRANSFER_CODING';
  constructor(readonly coding: string) {
    super(`the request body is in the transfer coding ${JSON.stringify(coding)}; only chunked is understood`);
  }
}

/** The API cannot serve requests: NATS or JetStream does not answer. */
export class NotReadyError extends WeftError {
  readonly code = 'NOT_READY';
}

/** What an error becomes, before the request-specific members are added. */
export interface ProblemInit {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors?: readonly ProblemIssue[];
  /** Extension members (RFC 9457 §3.2). */
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** Settings the mapping depends on. */
export interface ProblemMappingOptions {
  /** Largest accepted body, for the message of BODY_TOO_LARGE. */
  readonly bodyLimitBytes: number;
}

const INTERNAL: ProblemInit = { status: 500, code: 'INTERNAL_ERROR', title: 'Internal error', detail: 'internal error' };


const issues = (list: readonly InputIssue[]): ProblemIssue[] => list.map(({ pointer, message }) => ({ pointer, message }));

function fromWeftError(error: WeftError): ProblemInit {
  if (error instanceof InvalidSpecError) {
    return {
      status: 400,
      code: error.code,
      title: 'Invalid job spec',
      detail: error.message,
      errors: issues(error.issues),
    };
  }
  if (error instanceof InvalidTaskArgsError) {
    return {
      status: 400,
      code: error.code,
      title: 'Invalid task arguments',
      detail: error.message,
      errors: issues(error.issues),
      extensions: { task: error.task },
    };
  }
  if (error instanceof UnknownTaskError) {
    return {
      status: 400,
      code: error.code,
      title: 'Unknown task',
      detail: error.message,
      errors: [{ pointer: error.pointer, message: `unknown task "${error.task}"` }],
      extensions: { task: error.task, knownTasks: [...error.known] },
    };
  }
  if (error instanceof SpecLimitError) {
    const sizeLike = error.limit !== 'maxDepth';
    return {
      status: sizeLike ? 413 : 400,
      code: error.code,
      title: sizeLike ? 'Job spec too large' : 'Job spec too deep',
      detail: error.message,
      errors: [{ pointer: error.pointer, message: error.message }],
      extensions: { limit: error.limit, max: error.max },
    };
  }
  if (error instanceof MalformedJsonError) return malformedJson(error.message);
  if (error instanceof JobNotFoundError) {
    const extensions = { jobId: error.jobId };
    return { status: 404, code: error.code, title: 'Job not found', detail: error.message, extensions };
  }
  if (error instanceof JobEndedError) {
    const extensions = { jobId: error.jobId, jobStatus: error.jobStatus };
    return { status: 409, code: error.code, title: 'Job already ended', detail: error.message, extensions };
  }
  if (error instanceof RouteNotFoundError) {
    return { status: 404, code: error.code, title: 'Not found', detail: error.message };
  }
  if (error instanceof MethodNotAllowedError) {
    return { status: 405, code: error.code, title: 'Method not allowed', detail: error.message, extensions: { allowed: [...error.allowed] } };
  }
  if (error instanceof ValueNotFoundError) {
    return { status: 410, code: error.code, title: 'Result expired', detail: 'the result of this job is no longer stored' };
  }
  if (error instanceof InvalidFileNameError) {
    const pointer = error.pointer || '/name';
    return { status: 400, code: error.code, title: 'Invalid file name', detail: error.message, errors: [{ pointer, message: error.reason }] };
  }
  if (error instanceof FileInputError) {
    return { status: 400, code: error.code, title: 'Invalid file input', detail: error.message, errors: issues(error.issues) };
  }
  if (error instanceof FileNotFoundError) {
    return { status: 404, code: error.code, title: 'File not found', detail: error.message, extensions: { name: error.fileName } };
  }
  if (error instanceof FileChangedError) return { status: 409, code: error.code, title: 'File changed', detail: error.message };
  if (error instanceof FileTooLargeError) {
    return { status: 413, code: error.code, title: 'File too large', detail: error.message, extensions: { maxBytes: error.maxBytes } };
  }
  if (error instanceof RangeNotSatisfiableError) {
    return { status: 416, code: error.code, title: 'Range not satisfiable', detail: error.message, extensions: { size: error.size } };
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return { status: 422, code: error.code, title: 'Idempotency key reused', detail: error.message, extensions: { jobId: error.jobId } };
  }
  if (error instanceof InvalidMediaTypeError) return { status: 415, code: error.code, title: 'Unsupported media type', detail: error.message };
  if (error instanceof PartialUploadError) {
    const errors = [{ pointer: '/headers/content-range', message: 'not supported in an upload' }];
    return { status: 400, code: error.code, title: 'Invalid request', detail: error.message, errors };
  }
  if (error instanceof PreconditionFailedError) {
    return { status: 412, code: error.code, title: 'Precondition failed', detail: error.message, extensions: { name: error.fileName } };
  }
  if (error instanceof UnsupportedContentCodingError) {
    const errors = [{ pointer: '/headers/content-encoding', message: 'no content coding is accepted' }];
    return { status: 415, code: error.code, title: 'Unsupported content coding', detail: error.message, errors };
  }
  if (error instanceof UnsupportedTransferCodingError) {
    const errors = [{ pointer: '/headers/transfer-encoding', message: 'only chunked is understood' }];
    return { status: 501, code: error.code, title: 'Unsupported transfer coding', detail: error.message, errors };
  }
  if (error instanceof NotReadyError) return { status: 503, code: error.code, title: 'Not ready', detail: error.message };
  return fromClusterError(error) ?? INTERNAL;
}

function fromClusterError(error: WeftError): ProblemInit | undefined {
  if (error instanceof PoolNotFoundError) {
    const extensions = { pool: error.pool, knownPools: [...error.known] };
    return { status: 404, code: error.code, title: 'Worker pool not found', detail: error.message, extensions };
  }
  if (error instanceof PoolAutoscaledError) {
    const extensions = { pool: error.pool, autoscaler: error.autoscaler, hpa: error.hpa };
    return { status: 409, code: error.code, title: 'Worker pool is autoscaled', detail: error.message, extensions };
  }
  if (error instanceof ClusterUnavailableError) {
    return { status: 501, code: error.code, title: 'No Kubernetes cluster', detail: error.message };
  }
  if (error instanceof PoolDeploymentNotFoundError) {
    const extensions = { pool: error.pool, deployment: error.deployment };
    return { status: 502, code: error.code, title: 'Worker pool Deployment missing', detail: error.message, extensions };
  }
  if (error instanceof KubernetesError) {
    return { status: 502, code: error.code, title: 'Kubernetes API error', detail: error.publicDetail };
  }
  return undefined;
}

/** NATS did not answer: nothing is wrong with the request, and it may be sent again. */
const UNAVAILABLE: ProblemInit = {
  status: 503,
  code: 'NATS_UNAVAILABLE',
  title: 'Service unavailable',
  detail: 'NATS JetStream, where Weft keeps its state, did not answer; try again shortly',
};

/** Seconds a client is asked to wait before sending a request again after a 503. */
const RETRY_AFTER_SECONDS = 2;

function describe(error: unknown, options: ProblemMappingOptions): ProblemInit {
  // A probe's own answer (NOT_READY) stays as it is.
  if (isNatsUnavailable(error) && !(error instanceof NotReadyError)) return UNAVAILABLE;
  if (error instanceof WeftError) return fromWeftError(error);
  if (error instanceof Error) return fromFrameworkError(error, options) ?? INTERNAL;
  return INTERNAL;
}

/** Kebab-case form of a code, for problem `type` URIs: `UNKNOWN_TASK` → `unknown-task`. */
export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

/** The problem details an error becomes for a request to `instance`. */
export function toProblem(error: unknown, instance: string, options: ProblemMappingOptions): Problem {
  return problemOf(describe(error, options), instance);
}

/** The problem details of `init` for a request to `instance`. */
export function problemOf(init: ProblemInit, instance: string): Problem {
  return {
    type: problemType(init.code),
    title: init.title,
    status: init.status,
    detail: init.detail,
    code: init.code,
    instance,
    ...(init.errors === undefined ? {} : { errors: [...init.errors] }),
    ...init.extensions,
  };
}

/**
 * The error handler of the whole application (also used for fastify's framework
 * errors): answers with problem details; logs unexpected errors with their stack
 * (and the request id, like every request log line), the others in one line.
 */
export function createErrorHandler(options: ProblemMappingOptions) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    if (request.raw.destroyed && !request.raw.complete) {
      // The client went away mid-request (an upload cut off, say): nobody to answer.
      request.log.info({ err: error instanceof Error ? error.message : String(error) }, 'client went away');
      return;
    }
    const problem = toProblem(error, request.url, options);
    if (problem.code === INTERNAL.code) request.log.error({ err: error }, 'request failed');
    else if (problem.status >= 500) request.log.warn({ err: error, code: problem.code, status: problem.status }, problem.detail);
    else request.log.info({ code: problem.code, status: problem.status }, problem.detail);
    if (reply.sent) return;
    if (problem.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    void reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(stringifyJson(problem));
  };
}

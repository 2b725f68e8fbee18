/**
 * What the routes' schemas cannot say, added to the generated OpenAPI document:
 * response headers, a request body that is streamed rather than parsed, one that may
 * be left out, bodiless answers (a download's 304), the 500 any operation may answer
 * (and the 501 of a body in an unknown transfer coding), and a name for the file
 * routes' wildcard path parameter.
 */
import { PROBLEM_MEDIA_TYPE } from './schemas.js';

/** A header of a response, as OpenAPI describes it. */
interface HeaderObject {
  readonly description: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

/** The parts of an operation amended here. */
interface Operation {
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, unknown> };
  responses?: Record<string, { description: string; headers?: Record<string, HeaderObject>; content?: unknown }>;
}

/** What to add to one operation. */
interface Amendment {
  /** The body may be left out. */
  readonly optionalBody?: true;
  /** The body is streamed as it is, of any media type: what it holds. */
  readonly streamedBody?: string;
  /** Response headers, by status. */
  readonly headers?: Readonly<Record<number, Readonly<Record<string, HeaderObject>>>>;
  /** Responses without a body, which a route's schema cannot declare, by status. */
  readonly bodiless?: Readonly<Record<number, string>>;
}

const text = (description: string): HeaderObject => ({ description, schema: { type: 'string' } });

const REQUEST_ID = text('Id of the request, as the API logs it.');
const RETRY_AFTER: HeaderObject = { description: 'Seconds to wait before sending the request again.', schema: { type: 'integer' } };
const JOB_LOCATION = text('Path of the job.');
const REPLAYED = text('`true` when the answer is the job an earlier request with the same `Idempotency-Key` made.');
const FILE_HEADERS = {
  'content-length': { description: 'Bytes in the body.', schema: { type: 'integer' } },
  'accept-ranges': text('`bytes`: a single range may be asked for.'),
  etag: text('The file\'s SHA-256, quoted: for `If-Match`, `If-None-Match` and `If-Range`.'),
  'last-modified': text('When the upload finished: for `If-Modified-Since`, `If-Unmodified-Since` and `If-Range`.'),
} satisfies Record<string, HeaderObject>;

/** A download of a file (GET, or HEAD), whose `Content-Range` is described as `contentRange`. */
function fileRead(contentRange: string): Amendment {
  const { etag, 'last-modified': lastModified } = FILE_HEADERS;
  return {
    bodiless: { 304: 'Not Modified: the file is still the one `If-None-Match` or `If-Modified-Since` names.' },
    headers: {
      200: FILE_HEADERS,
      206: { ...FILE_HEADERS, 'content-range': text(contentRange) },
      304: { etag, 'last-modified': lastModified },
    },
  };
}

/** Amendments by `<method> <path>`, as in the document. */
const AMENDMENTS: Readonly<Record<string, Amendment>> = {
  'post /v1/jobs': {
    headers: {
      200: { location: JOB_LOCATION, 'idempotent-replayed': REPLAYED },
      202: { location: JOB_LOCATION, 'idempotent-replayed': REPLAYED },
    },
  },
  'post /v1/jobs/{id}/cancel': { optionalBody: true },
  'put /v1/files/{name}': {
    streamedBody: 'The file, of any media type (`Content-Type` is stored with it); streamed into the store as it arrives.',
    headers: { 201: { location: text('Path of the file.') } },
  },
  'get /v1/files/{name}': fileRead('The range sent, e.g. `bytes 0-99/1000`.'),
  'head /v1/files/{name}': fileRead('The range that would be sent.'),
};

/** The path parameter fastify names `*`, and its name in the document. */
const WILDCARD = '*';
const WILDCARD_NAME = 'name';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * Adds to a generated document what the route schemas cannot say (see the module
 * comment). The document is changed in place and returned.
 * @throws Error when an amended operation is not in the document (a route was renamed)
 */
export function amendDocument<D extends object>(doc: D): D {
  const paths = (doc as { paths?: Record<string, Record<string, Operation>> }).paths ?? {};
  for (const [path, item] of Object.entries(paths)) {
    if (!path.includes(`{${WILDCARD}}`)) continue;
    delete paths[path];
    paths[path.replace(`{${WILDCARD}}`, `{${WILDCARD_NAME}}`)] = item;
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path' || parameter.name !== WILDCARD) continue;
        parameter.name = WILDCARD_NAME;
        parameter.description = 'The file\'s name: it may hold `/` (folders), sent as they are.';
      }
    }
  }
  for (const [key, amendment] of Object.entries(AMENDMENTS)) {
    const [method = '', path = ''] = key.split(' ');
    const operation = paths[path]?.[method];
    if (operation === undefined) throw new Error(`the OpenAPI document has no operation ${key} to amend`);
    amend(operation, amendment);
  }
  const operations = Object.values(paths).flatMap((item) => Object.entries(item).filter(([method]) => METHODS.has(method)).map(([, operation]) => operation));
  const problem = operations
    .flatMap((operation) => Object.values(operation.responses ?? {}))
    .find((response) => typeof response.content === 'object' && response.content !== null && PROBLEM_MEDIA_TYPE in response.content);
  for (const operation of operations) {
    const responses = (operation.responses ??= {});
    // Any operation may fail unexpectedly: the error handler answers that with a problem too.
    if (problem !== undefined) {
      responses['500'] ??= { description: 'Internal Server Error: `INTERNAL_ERROR`, whose cause is not shown.', content: problem.content };
      if (operation.requestBody !== undefined) {
        responses['501'] ??= { description: 'Not Implemented: `UNSUPPORTED_TRANSFER_CODING`, a body in a transfer coding other than chunked.', content: problem.content };
      }
    }
    for (const [status, response] of Object.entries(responses)) {
      response.headers = { 'x-request-id': REQUEST_ID, ...(status === '503' ? { 'retry-after': RETRY_AFTER } : {}), ...response.headers };
    }
  }
  return doc;
}

function amend(operation: Operation, amendment: Amendment): void {
  if (amendment.optionalBody && operation.requestBody) operation.requestBody.required = false;
  if (amendment.streamedBody !== undefined) {
    operation.requestBody = {
      required: true,
      description: amendment.streamedBody,
      content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
    };
  }
  for (const [status, description] of Object.entries(amendment.bodiless ?? {})) {
    (operation.responses ??= {})[status] ??= { description };
  }
  for (const [status, headers] of Object.entries(amendment.headers ?? {})) {
    const response = operation.responses?.[status];
    if (response === undefined) throw new Error(`no response ${status} to add headers to`);
    response.headers = { ...response.headers, ...headers };
  }
}

/**
 * The file store over HTTP: `PUT`, `GET` (with `Range`), `HEAD` and `DELETE` on
 * `/v1/files/<name>`, and `GET /v1/files` to list.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  assertFileName,
  fileInfo,
  FileNotFoundError,
  FileTooLargeError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  type FileManifest,
  type FilePrecondition,
} from '@weft/shared';
import { InvalidMediaTypeError, PartialUploadError } from '../api-errors.js';
import type { ApiInstance, AppContext } from '../app-context.js';
import { evaluatePreconditions, hasPreconditions, type FileValidators } from '../files/http-preconditions.js';
import { parseRange, rangeApplies, type ByteRange } from '../files/http-range.js';
import {
  FileConditionHeadersSchema,
  FileInfoSchema,
  FileListQuerySchema,
  FileListSchema,
  FileParamsSchema,
  jsonResponse,
  problemResponses,
} from '../schemas.js';

/** A media type (RFC 9110 §8.3.1): `type/subtype`, with parameters. */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(?:;.*)?$/;

/** Declares the file routes, in a scope where request bodies are not parsed but streamed. */
export async function registerFileRoutes(app: ApiInstance, ctx: AppContext): Promise<void> {
  const { files, config } = ctx;

  await app.register((scope: ApiInstance) => {
    // Uploads of any type are streamed to the store untouched; fastify would refuse a
    // header that is no media type with a message about JSON.
    scope.addHook('onRequest', (request, _reply, done) => {
      const contentType = request.headers['content-type'];
      done(contentType === undefined || MEDIA_TYPE.test(contentType) ? undefined : new InvalidMediaTypeError(contentType));
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    scope.put(
      '/v1/files/*',
      {
        schema: {
          tags: ['files'],
          summary: 'Upload a file',
          description:
            'Streams the request body into the file store under the name in the path (`curl -T notes.txt ' +
            'localhost:8080/v1/files/notes.txt`), replacing any file of that name once the upload is complete. ' +
            'The body is never held in memory as a whole; it is cut into line-aligned parts as it arrives.',
          params: FileParamsSchema,
          headers: FileConditionHeadersSchema,
          response: { 201: jsonResponse(FileInfoSchema, 'The stored file.'), ...problemResponses(400, 412, 413, 415, 503) },
        },
      },
      async (request, reply) => {
        const name = assertFileName(request.params['*']);
        if (request.headers['content-range'] !== undefined) throw new PartialUploadError();
        const declared = Number(request.headers['content-length'] ?? Number.NaN);
        if (declared > config.fileMaxBytes) throw new FileTooLargeError(config.fileMaxBytes);
        const contentType = request.headers['content-type'] ?? guessContentType(name);
        const precondition = preconditionOf(request.headers);
        const manifest = await files.put(name, request.raw, { contentType, maxBytes: config.fileMaxBytes, ...(precondition ? { precondition } : {}) });
        request.log.info({ file: name, bytes: manifest.size, parts: manifest.parts.length }, 'file stored');
        return reply.code(201).header('location', filePath(name)).send(fileInfo(manifest));
      },
    );
  });

  app.get(
    '/v1/files',
    {
      schema: {
        tags: ['files'],
        summary: 'List stored files',
        querystring: FileListQuerySchema,
        response: { 200: jsonResponse(FileListSchema, 'Stored files, sorted by name.'), ...problemResponses(400, 503) },
      },
    },
    async (request) => ({ files: (await files.list(request.query.prefix ?? '')).map(fileInfo) }),
  );

  app.get(
    '/v1/files/*',
    {
      // Its HEAD twin answers with the headers only; unlike other HEAD routes, it is documented.
      config: { swagger: { exposeHeadRoute: true } },
      schema: {
        tags: ['files'],
        summary: 'Download a file',
        description:
          'Streams the file; a single `Range: bytes=…` is answered with 206 and that part. Conditional requests ' +
          '(`If-None-Match`, `If-Modified-Since`) are answered with 304 when the file has not changed.',
        params: FileParamsSchema,
        headers: FileConditionHeadersSchema,
        response: {
          200: binaryResponse('The file.'),
          206: binaryResponse('The requested range of the file.'),
          ...problemResponses(400, 404, 409, 412, 416, 503),
        },
      },
    },
    async (request, reply) => {
      const manifest = await requireFile(request.params['*']);
      const validators = validatorsOf(manifest);
      const current = { etag: validators.etag, lastModified: new Date(validators.modifiedMs).toUTCString() };
      const outcome = evaluatePreconditions(request.headers, validators, true);
      if (outcome === 'failed') throw new PreconditionFailedError(manifest.name);
      if (outcome === 'not-modified') {
        // No body, and no schema to declare one by: written as it is.
        void reply.header('etag', current.etag).header('last-modified', current.lastModified);
        reply.hijack();
        reply.raw.writeHead(304, reply.getHeaders() as OutgoingHttpHeaders);
        reply.raw.end();
        return reply;
      }
      let range: ByteRange | undefined;
      try {
        range = rangeApplies(request.headers['if-range'], current) ? parseRange(request.headers.range, manifest.size) : undefined;
      } catch (err) {
        if (err instanceof RangeNotSatisfiableError) void reply.header('content-range', `bytes */${manifest.size}`);
        throw err;
      }
      const { start, end } = range ?? { start: 0, end: manifest.size };
      void reply
        .code(range ? 206 : 200)
        .header('content-type', manifest.contentType)
        .header('content-length', String(end - start))
        .header('accept-ranges', 'bytes')
        .header('etag', current.etag)
        .header('last-modified', current.lastModified)
        // Files are whatever users uploaded, served from the API's origin: a browser must
        // neither guess another type nor run what it shows (an uploaded HTML page, say).
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', 'sandbox');
      if (range) void reply.header('content-range', `bytes ${start}-${end - 1}/${manifest.size}`);
      if (request.method === 'HEAD') {
        // The headers only, with the real length (fastify would send its own for an empty body).
        reply.hijack();
        reply.raw.writeHead(range ? 206 : 200, reply.getHeaders() as OutgoingHttpHeaders);
        reply.raw.end();
        return reply;
      }
      if (start === end) return reply.send(undefined);
      // One part buffered ahead (the store reads a few more ahead itself).
      return reply.send(Readable.from(files.read(manifest, start, end), { highWaterMark: 1 }));
    },
  );

  app.delete(
    '/v1/files/*',
    {
      schema: {
        tags: ['files'],
        summary: 'Delete a file',
        params: FileParamsSchema,
        headers: FileConditionHeadersSchema,
        response: { 204: binaryResponse('Deleted; no content.'), ...problemResponses(400, 404, 412, 415, 503) },
      },
    },
    async (request, reply) => {
      const name = assertFileName(request.params['*']);
      if (!(await files.delete(name, preconditionOf(request.headers)))) throw new FileNotFoundError(name);
      request.log.info({ file: name }, 'file deleted');
      return reply.code(204).send(undefined);
    },
  );

  async function requireFile(rawName: string): Promise<FileManifest> {
    return files.require(assertFileName(rawName));
  }
}

/** What a request's preconditions compare a stored file by. */
function validatorsOf(manifest: FileManifest): FileValidators {
  return { etag: `"${manifest.sha256}"`, modifiedMs: Date.parse(manifest.createdAt) };
}

/** The precondition a change (`PUT`, `DELETE`) must meet, when the request sets any. */
function preconditionOf(headers: IncomingHttpHeaders): FilePrecondition | undefined {
  if (!hasPreconditions(headers)) return undefined;
  return (current) => evaluatePreconditions(headers, current && validatorsOf(current), false) === 'proceed';
}

/** A route response entry for raw bytes (streamed by fastify, never serialized). */
function binaryResponse(description: string) {
  return { description, content: { 'application/octet-stream': { schema: z.unknown().meta({ type: 'string', format: 'binary' }) } } };
}

/** Path of a file's resource. */
export function filePath(name: string): string {
  return `/v1/files/${name.split('/').map(encodeURIComponent).join('/')}`;
}

const TEXT_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
};

/** A content type from the name's extension, for uploads that declare none. */
function guessContentType(name: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (extension && TEXT_TYPES[extension]) ?? 'application/octet-stream';
}

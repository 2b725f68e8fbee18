/**
 * JSON in and out of the API without losing integers beyond 2^53: request bodies are
 * parsed with `parseJsonText` (such integers become bigints) and responses are written
 * with `stringifyJson` (bigints become plain number literals with every digit).
 */
import type { FastifySerializerCompiler } from 'fastify';
import { ResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MalformedJsonError, parseJsonText, stringifyJson } from '@weft/shared';
import type { ApiInstance } from './app-context.js';

/** Parses a request body as user JSON. @throws MalformedJsonError when it is not JSON */
export function parseJsonBody(text: string): unknown {
  try {
    return parseJsonText(text);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new MalformedJsonError(`the request body is not valid JSON: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Route response schemas come bare or, from some fastify code paths, wrapped in `properties`. */
function unwrap(schema: z.ZodType | { properties: z.ZodType }): z.ZodType {
  return schema instanceof z.ZodType ? schema : schema.properties;
}

/**
 * Serializer compiler for zod response schemas: the value is checked (and stripped of
 * unknown keys) by the schema, then written with `stringifyJson`.
 */
export const jsonSerializerCompiler: FastifySerializerCompiler<z.ZodType | { properties: z.ZodType }> = ({
  schema,
  method,
  url,
}) => {
  const zodSchema = unwrap(schema);
  return (data) => {
    const result = z.safeEncode(zodSchema, data);
    if (!result.success) throw new ResponseSerializationError(method, url, { cause: result.error });
    return stringifyJson(result.data);
  };
};

/**
 * Makes `app` speak bigint-safe JSON: `application/json` is the only body type
 * accepted (anything else is answered with 415), and responses with a zod schema are
 * written with `stringifyJson`. Every API route declares its response schemas; fastify
 * writes the rest (e.g. the OpenAPI document) with `JSON.stringify`. (A default reply
 * serializer is deliberately not set: fastify would prefer it to the schemas.)
 */
export function installJsonContent(app: ApiInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.setSerializerCompiler(jsonSerializerCompiler);
}

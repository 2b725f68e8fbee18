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

/**
 * Deepest nesting of arrays and objects a request body may have. Far beyond any job
 * spec within the depth limit, and far below what would exhaust the stack of the code
 * that walks values recursively later (encoding them for NATS, for one).
 */
const MAX_JSON_DEPTH = 1000;

// Fatal: text that is not UTF-8 would otherwise reach jobs with U+FFFD in its place.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request body as text. @throws MalformedJsonError when it is not UTF-8 */
function decodeBody(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch (err) {
    throw new MalformedJsonError('the request body is not valid UTF-8', { cause: err });
  }
}

/** Parses a request body as user JSON. @throws MalformedJsonError when it is not JSON, or nested deeper than {@link MAX_JSON_DEPTH} */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new MalformedJsonError(`the request body is not valid JSON: ${err.message}`, { cause: err });
    }
    // The parser ran out of stack: a body nested far too deep.
    if (err instanceof RangeError) throw tooDeep(err);
    throw err;
  }
  if (depthExceeds(value, MAX_JSON_DEPTH)) throw tooDeep();
  return value;
}

function tooDeep(cause?: Error): MalformedJsonError {
  return new MalformedJsonError(`the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, cause ? { cause } : {});
}

/** Whether `value` nests arrays and objects more than `max` levels deep; iterative, so any depth is safe. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [item, depth] = top;
    if (typeof item !== 'object' || item === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

function acceptsNoBody(schema: unknown): boolean {
  return schema instanceof z.ZodType && schema.safeParse(undefined).success;
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
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // A route that takes no body (a DELETE, say) ignores one; a route whose body may be
    // left out takes an empty one (with the header, as many clients send it) as none.
    const schema = request.routeOptions.schema?.body;
    if (schema === undefined || ((body as Buffer).byteLength === 0 && acceptsNoBody(schema))) {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJsonBody(decodeBody(body as Buffer)));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.setSerializerCompiler(jsonSerializerCompiler);
}

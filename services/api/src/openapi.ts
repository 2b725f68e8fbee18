/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas: served at
 * `GET /openapi.json`, with Swagger UI at `/docs`.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiInstance } from './app-context.js';
import { amendDocument } from './openapi-amendments.js';
// Registers the named components.
import './schemas.js';
import { API_VERSION } from './version.js';

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/openapi.json';

/** Path of Swagger UI. */
export const DOCS_PATH = '/docs';

const COMPONENT_REF = '#/components/schemas/';

/** Names of the components `value` refers to, directly. */
function refsIn(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) refsIn(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(COMPONENT_REF)) {
        into.add(child.slice(COMPONENT_REF.length));
      } else {
        refsIn(child, into);
      }
    }
  }
}

/**
 * Drops component schemas nothing refers to: every registered schema is emitted in an
 * input and an output variant, of which usually one is used.
 */
function pruneComponents<D extends object>(doc: D): D {
  const { components } = doc as { components?: { schemas?: Record<string, unknown> } };
  const schemas = components?.schemas;
  if (schemas === undefined) return doc;
  const used = new Set<string>();
  refsIn({ ...doc, components: { ...components, schemas: {} } }, used);
  const queue = [...used];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    const found = new Set<string>();
    refsIn(schemas[name], found);
    for (const ref of found) {
      if (!used.has(ref)) {
        used.add(ref);
        queue.push(ref);
      }
    }
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...doc, components: { ...components, schemas: kept } };
}

/** Registers the OpenAPI generator and Swagger UI. Call before declaring routes. */
export async function registerOpenApi(app: ApiInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Weft API',
        version: API_VERSION,
        description:
          'Submit and follow jobs (tasks, chains, groups, chords, map-reduce) on Weft. Integers beyond 2^53 are ' +
          'exchanged as plain JSON numbers with every digit. Errors are RFC 9457 problem details.',
      },
      tags: [
        { name: 'jobs', description: 'Submit, inspect and follow jobs' },
        { name: 'tasks', description: 'The task catalogue' },
        { name: 'workers', description: 'Live workers' },
        { name: 'files', description: 'The file store' },
        { name: 'health', description: 'Probes' },
      ],
    },
    exposeHeadRoutes: false,
    transform: jsonSchemaTransform,
    transformObject: (doc) => amendDocument(pruneComponents(jsonSchemaTransformObject(doc))),
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PATH });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, () => app.swagger());
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectNats, provisionInfrastructure, TaskCatalogue } from '@weft/shared';
import { createLogger } from '@weft/shared';
import { buildApp, type ApiInstance, type Problem, type TaskList, type WorkerList } from '../src/index.js';
import { amendDocument } from '../src/openapi-amendments.js';
import { putHeartbeat } from './helpers/heartbeats.js';
import { bodyOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

// The catalogue's own tests pin its contents; the API must expose exactly those tasks.
const BUILTIN_TASKS = TaskCatalogue.builtin().names();

describe('catalogue, workers, health and OpenAPI', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  it('lists the built-in tasks with argument schemas', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/v1/tasks' });
    assert.equal(response.statusCode, 200, response.body);
    const { tasks } = bodyOf<TaskList>(response);
    assert.deepEqual(tasks.map((t) => t.name).sort(), [...BUILTIN_TASKS].sort());
    for (const task of tasks) {
      assert.ok(task.description.length > 0, task.name);
      assert.equal(typeof task.cpuBound, 'boolean');
      assert.equal(task.args['type'], 'array', task.name);
    }
    const add = tasks.find((t) => t.name === 'add');
    assert.equal((add?.args['prefixItems'] as unknown[]).length, 2);
    assert.equal(tasks.find((t) => t.name === 'sum-of-squares')?.cpuBound, true);
  });

  it('lists live workers and leaves out stale heartbeats', async () => {
    await putHeartbeat(env.infra, 'ghost-1', ['default'], 10_000);
    await env.infra.workers.put('garbage', '{"not":"a heartbeat"}');

    const response = await env.app.inject({ method: 'GET', url: '/v1/workers' });
    assert.equal(response.statusCode, 200, response.body);
    const { workers } = bodyOf<WorkerList>(response);
    assert.deepEqual(
      workers.map((w) => w.id),
      [env.worker?.id],
    );
    const [worker] = workers;
    assert.ok(worker);
    assert.equal(worker.pid, process.pid);
    assert.deepEqual(worker.queues, ['default']);
    assert.equal(worker.threads, 2);
    for (const key of ['name', 'host', 'version', 'concurrency', 'inFlight', 'processed', 'failed', 'startedAt', 'seenAt']) {
      assert.ok(key in worker, key);
    }
    assert.equal('heartbeatMs' in worker, false);
  });

  it('answers the probes', async () => {
    const health = await env.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(bodyOf(health), { status: 'ok' });
    const ready = await env.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual(bodyOf(ready), { status: 'ok' });
  });

  /** Runs `fn` with an app of its own whose NATS connection is closed. */
  async function withNatsGone(fn: (app: ApiInstance) => Promise<void>): Promise<void> {
    const nc = await connectNats(env.config, 'weft-api-test-nats-gone');
    const infra = await provisionInfrastructure(nc, env.config);
    const app = await buildApp({ config: env.config, infra, logger: createLogger('weft-api-test', 'silent') });
    try {
      await nc.close();
      await fn(app);
    } finally {
      await app.close();
    }
  }

  it('answers readyz with 503 when NATS is gone', async () => {
    await withNatsGone(async (app) => {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(bodyOf<Problem>(response).code, 'NOT_READY');
    });
  });

  it('answers 503 NATS_UNAVAILABLE, not 400 or 500, while NATS does not answer', async () => {
    await withNatsGone(async (app) => {
      const fileJob = { mapReduce: { input: { file: 'books/a.txt' }, map: { task: 'word-count' }, reduce: { task: 'word-count' } } };
      const requests = [
        app.inject({ method: 'POST', url: '/v1/jobs', payload: { task: 'add', args: [1, 2] } }),
        // A file that may well exist: not knowing is not "no stored file matches".
        app.inject({ method: 'POST', url: '/v1/jobs', payload: fileJob }),
        app.inject({ method: 'POST', url: '/v1/jobs', payload: { ...fileJob, mapReduce: { ...fileJob.mapReduce, input: { file: 'books/*.txt' } } } }),
        app.inject({ method: 'GET', url: '/v1/jobs/0000000000aaaaaaaaaaaaaaaa' }),
        app.inject({ method: 'GET', url: '/v1/files' }),
      ];
      for (const response of await Promise.all(requests)) {
        assert.equal(response.statusCode, 503, response.body);
        assert.equal(bodyOf<Problem>(response).code, 'NATS_UNAVAILABLE');
        assert.equal(response.headers['retry-after'], '2');
      }
    });
  });

  it('keeps well-formed request ids', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-42' } });
    assert.equal(response.headers['x-request-id'], 'req-42');
    const generated = await env.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\u0001' } });
    assert.match(generated.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
  });

  it('serves an OpenAPI document describing the job spec', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = bodyOf<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
      components: { schemas: Record<string, { anyOf?: unknown[] }> };
    }>(response);
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/tasks', '/v1/workers', '/healthz', '/readyz']) {
      assert.ok(doc.paths[path], path);
    }
    const post = doc.paths['/v1/jobs']?.['post'];
    assert.ok(post);
    const ref = post.requestBody?.content['application/json']?.schema.$ref;
    assert.equal(ref, '#/components/schemas/JobNodeInput');
    const node = doc.components.schemas['JobNodeInput'];
    assert.equal(node?.anyOf?.length, 5);
    assert.match(JSON.stringify(node), /"\$ref":"#\/components\/schemas\/JobNodeInput"/);
    // Every reference resolves.
    for (const [, name] of response.body.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      assert.ok(doc.components.schemas[name as string], `dangling $ref ${name}`);
    }
    assert.ok(doc.paths['/v1/jobs']?.['get']);
  });

  it('documents every tag, every answer of a job and the HEAD of a file', async () => {
    const doc = bodyOf<{
      tags: { name: string }[];
      paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>;
    }>(await env.app.inject({ method: 'GET', url: '/openapi.json' }));
    const declared = new Set(doc.tags.map((tag) => tag.name));
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const tag of operation.tags ?? []) assert.ok(declared.has(tag), `${method} ${path}: tag ${tag} is not declared`);
        // Only a file's HEAD answers differently from a plain GET without a body.
        if (method === 'head') assert.match(path, /^\/v1\/files\//);
      }
    }
    const file = Object.entries(doc.paths).find(([path]) => path.startsWith('/v1/files/'))?.[1];
    assert.ok(file?.['head'], 'HEAD of a file');
    assert.ok(file['get']);
    // A finished job's result may have expired from the store.
    for (const [path, method] of [['/v1/jobs', 'post'], ['/v1/jobs/{id}', 'get'], ['/v1/jobs/{id}/cancel', 'post']] as const) {
      assert.ok(doc.paths[path]?.[method]?.responses['410'], `${method} ${path}: 410`);
    }
  });

  it('adds what the route schemas cannot say', async () => {
    type Response = { headers?: Record<string, unknown>; content?: Record<string, unknown> };
    type Operation = { parameters?: { in: string; name: string }[]; requestBody?: { required?: boolean; content: Record<string, unknown> }; responses: Record<string, Response> };
    const doc = bodyOf<{ paths: Record<string, Record<string, Operation>> }>(await env.app.inject({ method: 'GET', url: '/openapi.json' }));
    const file = doc.paths['/v1/files/{name}'];
    assert.ok(file, 'the file routes name their parameter');
    assert.ok(!Object.keys(doc.paths).some((path) => path.includes('{*}')));
    assert.deepEqual(file['get']?.parameters?.filter((p) => p.in === 'path').map((p) => p.name), ['name']);
    assert.ok(file['put']?.requestBody?.content['*/*'], 'an upload takes any body');
    assert.ok(file['get']?.responses['206']?.headers?.['content-range']);
    assert.equal(doc.paths['/v1/jobs/{id}/cancel']?.['post']?.requestBody?.required, false);
    assert.ok(doc.paths['/v1/jobs']?.['post']?.responses['202']?.headers?.['location']);
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        assert.ok(operation.responses['500']?.content?.['application/problem+json'], `${method} ${path}: 500`);
        for (const [status, response] of Object.entries(operation.responses)) {
          assert.ok(response.headers?.['x-request-id'], `${method} ${path} ${status}: X-Request-Id`);
          if (status === '503') assert.ok(response.headers['retry-after'], `${method} ${path}: Retry-After`);
        }
      }
    }
  });

  it('refuses to amend an operation the document lacks', () => {
    assert.throws(() => amendDocument({ paths: {} }), /no operation post \/v1\/jobs/);
  });

  it('serves Swagger UI', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /text\/html/);
    const asset = await env.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(asset.statusCode, 200);
  });
});

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TaskCatalogue } from '@weft/shared';
import { toProblem, type Problem } from '../src/index.js';
import { postJson, problemOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

// The catalogue's own tests pin its contents; the API must expose exactly those tasks.
const BUILTIN_TASKS = TaskCatalogue.builtin().names();


/** The pointers of a problem's issues. */
const pointers = (problem: Problem) => (problem.errors ?? []).map((e) => e.pointer);

/** A chain nested `depth` levels deep. */
function nested(depth: number): unknown {
  let node: unknown = { task: 'add', args: [1, 2] };
  for (let i = 1; i < depth; i++) node = { chain: [node] };
  return node;
}

describe('error responses', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({
      worker: false,
      config: { maxSpecDepth: 3, maxSpecNodes: 10, maxChunks: 50, maxTasks: 120, bodyLimitBytes: 4096, maxWaitMs: 5000 },
    });
  });
  after(async () => {
    await env?.close();
  });

  it('rejects malformed JSON', async () => {
    const problem = problemOf(await postJson(env.app, '/v1/jobs', '{"task": "add",'), 400, 'MALFORMED_JSON');
    assert.deepEqual(pointers(problem), ['']);
    assert.equal(problem.instance, '/v1/jobs');
    problemOf(await postJson(env.app, '/v1/jobs', ''), 400, 'MALFORMED_JSON');
    problemOf(await postJson(env.app, '/v1/jobs', '{"__proto__": {"x": 1}, "task": "add"}'), 400, 'MALFORMED_JSON');
    const latin1 = problemOf(await postJson(env.app, '/v1/jobs', Buffer.from('{"task": "echo", "args": ["caf\xe9"]}', 'latin1')), 400, 'MALFORMED_JSON');
    assert.match(latin1.detail, /not valid UTF-8/);
    // A number JSON can write but a double cannot hold: it would come back as null.
    const infinite = problemOf(await postJson(env.app, '/v1/jobs', '{"task": "echo", "args": [1e400]}'), 400, 'MALFORMED_JSON');
    assert.match(infinite.detail, /1e400 lies beyond the range of a double/);
  });

  it('rejects bodies that are not a node object', async () => {
    for (const body of ['[1, 2]', '42', '"add"', 'null', '{}']) {
      const problem = problemOf(await postJson(env.app, '/v1/jobs', body), 400, 'INVALID_SPEC');
      assert.deepEqual(pointers(problem), [''], body);
    }
    const twoKinds = problemOf(await postJson(env.app, '/v1/jobs', { task: 'add', group: [] }), 400, 'INVALID_SPEC');
    assert.deepEqual(pointers(twoKinds), ['']);
  });

  it('points at invalid fields deep in the spec', async () => {
    const problem = problemOf(
      await postJson(env.app, '/v1/jobs', { chain: [{ task: 'add', args: [1, 2] }, { task: 'add', retries: -1 }] }),
      400,
      'INVALID_SPEC',
    );
    assert.deepEqual(pointers(problem), ['/chain/1/retries']);
  });

  it('points into a map-reduce input at the field that is wrong', async () => {
    const spec = (input: unknown) => ({ mapReduce: { input, map: { task: 'squares' }, reduce: { task: 'sum' } } });
    for (const [input, pointer, message] of [
      [{ range: { start: 'a', end: 10 } }, '/mapReduce/input/range/start', /expected number/],
      [{ range: { start: 1 } }, '/mapReduce/input/range/end', /expected number/],
      [{ range: { start: 1, end: 2.5 } }, '/mapReduce/input/range/end', /expected int/],
      [{ items: 5 }, '/mapReduce/input/items', /expected array/],
      [{}, '/mapReduce/input', /exactly one of: items, range, file, path, url/],
      [{ items: [], range: { start: 0, end: 1 } }, '/mapReduce/input', /exactly one of/],
    ] as const) {
      const problem = problemOf(await postJson(env.app, '/v1/jobs', spec(input)), 400, 'INVALID_SPEC');
      assert.deepEqual(pointers(problem), [pointer], JSON.stringify(input));
      assert.match(problem.errors?.[0]?.message ?? '', message);
    }
  });

  it('asks a map-reduce for `reduce` or `output`, and for only one of them', async () => {
    const mapReduce = { input: { items: [1, 2] }, map: { task: 'squares' } };
    const neither = problemOf(await postJson(env.app, '/v1/jobs', { mapReduce }), 400, 'INVALID_SPEC');
    assert.deepEqual(pointers(neither), ['/mapReduce/reduce']);
    assert.match(neither.detail, /needs `reduce` \(to combine the map values\) or `output`/);
    const both = { mapReduce: { ...mapReduce, reduce: { task: 'sum' }, output: 'out.txt' } };
    const problem = problemOf(await postJson(env.app, '/v1/jobs', both), 400, 'INVALID_SPEC');
    assert.deepEqual(pointers(problem), ['/mapReduce/output']);
    assert.match(problem.detail, /takes `reduce` or `output`, not both/);
  });

  it('rejects unknown tasks and lists the known ones', async () => {
    const problem = problemOf(await postJson(env.app, '/v1/jobs', { group: [{ task: 'nope' }] }), 400, 'UNKNOWN_TASK');
    assert.deepEqual(pointers(problem), ['/group/0/task']);
    assert.deepEqual([...(problem['knownTasks'] as string[])].sort(), [...BUILTIN_TASKS].sort());
    assert.match(problem.detail, /known tasks: .*sum-of-squares/);
  });

  it('rejects wrong argument types with the argument pointer', async () => {
    const top = problemOf(await postJson(env.app, '/v1/jobs', { task: 'add', args: ['x', 6] }), 400, 'INVALID_TASK_ARGS');
    assert.deepEqual(pointers(top), ['/args/0']);
    assert.equal(top['task'], 'add');
    const inChain = problemOf(
      await postJson(env.app, '/v1/jobs', { chain: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: ['x'] }] }),
      400,
      'INVALID_TASK_ARGS',
    );
    assert.deepEqual(pointers(inChain), ['/chain/1/args/0']);
  });

  it('points at the map-reduce input or task that cannot go together', async () => {
    const mapReduce = (input: unknown, map: string, reduce = 'sum') => ({ mapReduce: { input, chunkSize: 1, map: { task: map }, reduce: { task: reduce } } });
    const cases: [unknown, string[]][] = [
      // A bad item in any chunk, not only the first.
      [mapReduce({ items: [1, 2, 'x'] }, 'squares'), ['/mapReduce/input/items/2']],
      [mapReduce({ items: ['a', { b: 1 }] }, 'squares'), ['/mapReduce/input/items/0']],
      // Past the first window of items the check goes on, and points at the item.
      [
        { mapReduce: { ...mapReduce({ items: [...Array.from({ length: 1500 }, () => 1), 'x'] }, 'squares').mapReduce, chunkSize: 100 } },
        ['/mapReduce/input/items/1500'],
      ],
      // A task that cannot take a chunk, or a list of partials, at all.
      [mapReduce({ range: { start: 0, end: 4 } }, 'fibonacci'), ['/mapReduce/map/task']],
      [mapReduce({ range: { start: 0, end: 4 } }, 'squares', 'fibonacci'), ['/mapReduce/reduce/task']],
    ];
    for (const [spec, expected] of cases) {
      const problem = problemOf(await postJson(env.app, '/v1/jobs', spec), 400, 'INVALID_TASK_ARGS');
      assert.deepEqual(pointers(problem), expected, JSON.stringify(spec));
      assert.match(problem.detail, /receives/);
    }
  });

  it('rejects specs nested too deeply with 400', async () => {
    const ok = await postJson(env.app, '/v1/jobs', nested(3));
    assert.equal(ok.statusCode, 202, ok.body);
    const problem = problemOf(await postJson(env.app, '/v1/jobs', nested(4)), 400, 'SPEC_LIMIT_EXCEEDED');
    assert.equal(problem['limit'], 'maxDepth');
    assert.equal(problem['max'], 3);
    assert.deepEqual(pointers(problem), ['/chain/0/chain/0/chain/0']);
  });

  it('rejects specs with too many nodes, chunks or tasks with 413', async () => {
    const members = Array.from({ length: 20 }, (_, i) => ({ task: 'add', args: [i, 1] }));
    const nodes = problemOf(await postJson(env.app, '/v1/jobs', { group: members }), 413, 'SPEC_LIMIT_EXCEEDED');
    assert.equal(nodes['limit'], 'maxNodes');
    assert.equal(nodes['max'], 10);
    assert.deepEqual(pointers(nodes), ['/group/9']);

    const chunks = problemOf(
      await postJson(env.app, '/v1/jobs', {
        mapReduce: { input: { range: { start: 0, end: 1000 } }, chunks: 100, map: { task: 'squares' }, reduce: { task: 'sum' } },
      }),
      413,
      'SPEC_LIMIT_EXCEEDED',
    );
    assert.equal(chunks['limit'], 'maxChunks');
    assert.deepEqual(pointers(chunks), ['/mapReduce']);

    // Three map-reduces of 40 chunks and 3 reduce steps each: 129 tasks.
    const mapReduce = { mapReduce: { input: { range: { start: 0, end: 40 } }, chunks: 40, map: { task: 'squares' }, reduce: { task: 'sum' } } };
    const tasks = problemOf(await postJson(env.app, '/v1/jobs', { group: [mapReduce, mapReduce, mapReduce] }), 413, 'SPEC_LIMIT_EXCEEDED');
    assert.equal(tasks['limit'], 'maxTasks');
    assert.equal(tasks['max'], 120);
    assert.deepEqual(pointers(tasks), ['/group/2/mapReduce']);
    assert.equal((await postJson(env.app, '/v1/jobs', { group: [mapReduce, mapReduce] })).statusCode, 202);
  });

  it('rejects oversized bodies with 413', async () => {
    const args = Array.from({ length: 5000 }, () => 1);
    const problem = problemOf(await postJson(env.app, '/v1/jobs', { task: 'echo', args }), 413, 'BODY_TOO_LARGE');
    assert.match(problem.detail, /4096 bytes/);
  });

  it('rejects other media types with 415', async () => {
    const response = await env.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'text/plain' },
      payload: '{"task":"add","args":[1,2]}',
    });
    problemOf(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses bodies in a content coding with 415, and in a transfer coding other than chunked with 501', async () => {
    const body = '{"task":"add","args":[1,2]}';
    for (const [headers, status, code, pointer] of [
      [{ 'content-encoding': 'gzip' }, 415, 'UNSUPPORTED_MEDIA_TYPE', '/headers/content-encoding'],
      [{ 'content-encoding': 'identity, br' }, 415, 'UNSUPPORTED_MEDIA_TYPE', '/headers/content-encoding'],
      [{ 'transfer-encoding': 'gzip, chunked' }, 501, 'UNSUPPORTED_TRANSFER_CODING', '/headers/transfer-encoding'],
    ] as const) {
      for (const url of ['/v1/jobs', '/v1/files/coded.txt']) {
        const method = url === '/v1/jobs' ? 'POST' : 'PUT';
        const response = await env.app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
        const problem = problemOf(response, status, code);
        assert.equal(problem.errors?.[0]?.pointer, pointer, `${method} ${url} ${JSON.stringify(headers)}`);
      }
    }
    const plain = await env.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, payload: body });
    assert.equal(plain.statusCode, 202);
    const bodiless = await env.app.inject({ method: 'GET', url: '/v1/tasks', headers: { 'content-encoding': 'gzip' } });
    assert.equal(bodiless.statusCode, 200);
  });

  it('answers 404 for unknown and malformed job ids', async () => {
    for (const url of [
      '/v1/jobs/0000000000aaaaaaaaaaaaaaaa',
      '/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=1',
      '/v1/jobs/not-a-job',
      '/v1/jobs/a.*.%3E?wait=1',
      '/v1/jobs/0000000000aaaaaaaaaaaaaaaa/events',
      `/v1/jobs/${'a'.repeat(5000)}`,
      `/v1/jobs/${'a'.repeat(101)}/events`,
    ]) {
      const problem = problemOf(await env.app.inject({ method: 'GET', url }), 404, 'JOB_NOT_FOUND');
      assert.equal(problem.instance, url);
    }
  });

  it('rejects bad query parameters with pointers into the query', async () => {
    const cases: [string, string][] = [
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=abc', '/query/wait'],
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=-1', '/query/wait'],
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=6', '/query/wait'],
      ['/v1/jobs?limit=0', '/query/limit'],
      ['/v1/jobs?limit=501', '/query/limit'],
      ['/v1/jobs?status=bogus', '/query/status'],
      // What Number() would take for a number, but no one means as one.
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=', '/query/wait'],
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=%20', '/query/wait'],
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=0x2', '/query/wait'],
      ['/v1/jobs/0000000000aaaaaaaaaaaaaaaa?wait=1e0', '/query/wait'],
      ['/v1/jobs?limit=1.5', '/query/limit'],
      ['/v1/jobs?limit=', '/query/limit'],
    ];
    for (const [url, pointer] of cases) {
      const problem = problemOf(await env.app.inject({ method: 'GET', url }), 400, 'INVALID_REQUEST');
      assert.deepEqual(pointers(problem), [pointer], url);
    }
    const post = problemOf(await postJson(env.app, '/v1/jobs?wait=x', { task: 'add', args: [1, 2] }), 400, 'INVALID_REQUEST');
    assert.deepEqual(pointers(post), ['/query/wait']);
    const fraction = await postJson(env.app, '/v1/jobs?wait=0.5', { task: 'add', args: [1, 2] });
    assert.ok([200, 202].includes(fraction.statusCode), fraction.body);
  });

  /** The port the API listens on, listening first if it does not yet. */
  async function listening(): Promise<number> {
    const bound = env.app.server.address();
    if (bound !== null && typeof bound === 'object') return bound.port;
    return Number(new URL(await env.app.listen({ port: 0, host: '127.0.0.1' })).port);
  }

  it('answers what is not HTTP, a request without Host and an unknown expectation with problem details too', async () => {
    const port = await listening();
    const cases: [string, number, string][] = [
      ['FOO /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['GET /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      [`GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['GET /v1/tasks HTTP/1.1\r\n\r\n', 400, 'INVALID_REQUEST'],
      ['POST /v1/jobs HTTP/1.1\r\nHost: x\r\nExpect: 999-nope\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 417, 'EXPECTATION_FAILED'],
    ];
    for (const [request, status, code] of cases) {
      const answer = await rawExchange(port, request);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1.1 ${status} `), request.slice(0, 40));
      assert.match(head, /content-type: application\/problem\+json/i);
      const problem = JSON.parse(body) as { code: string; status: number; errors?: { pointer: string }[] };
      assert.deepEqual([problem.code, problem.status], [code, status]);
      if (code === 'INVALID_REQUEST') assert.deepEqual(problem.errors?.map((e) => e.pointer), ['/headers/host']);
    }
  });

  it('answers a request once, even when its body breaks the parser after the answer', async () => {
    const port = await listening();
    const head = 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n';
    const answer = await rawExchange(port, head, 'abc');
    assert.equal(answer.match(/HTTP\/1\.1 \d{3} /g)?.length, 1, answer);
    assert.match(answer, /^HTTP\/1\.1 501 /);
    // An empty chunked body in a content coding, to a route that takes none, is no body at all.
    const bodiless = 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n';
    assert.match(await rawExchange(port, bodiless), /^HTTP\/1\.1 200 /);
    // An absolute-form target is told which methods its path answers, like any other.
    const absolute = await rawExchange(port, 'POST http://x/healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.match(absolute, /^HTTP\/1\.1 405 /);
    assert.match(absolute, /allow: GET, HEAD/i);
  });

  it('answers 400 INVALID_REQUEST at /params for a path that is not valid percent-encoding', async () => {
    for (const url of ['/v1/jobs/a%ffb', '/v1/files/probe/a%zz', '/v1/files/probe/a%']) {
      const problem = problemOf(await env.app.inject({ method: 'GET', url }), 400, 'INVALID_REQUEST');
      assert.deepEqual(pointers(problem), ['/params'], url);
    }
  });

  it('answers 404 NOT_FOUND for unknown routes', async () => {
    const problem = problemOf(await env.app.inject({ method: 'GET', url: '/v2/nothing?x=1' }), 404, 'NOT_FOUND');
    assert.equal(problem.instance, '/v2/nothing?x=1');
    problemOf(await env.app.inject({ method: 'GET', url: '/v1/jobs/0000000000aaaaaaaaaaaaaaaa/nothing' }), 404, 'NOT_FOUND');
    for (const url of ['//', '//v1/jobs', '/*', '/a%20b']) problemOf(await env.app.inject({ method: 'PATCH', url }), 404, 'NOT_FOUND');
  });

  it('answers 405 METHOD_NOT_ALLOWED, with Allow, for a path that answers other methods', async () => {
    for (const [method, url, allow] of [
      ['DELETE', '/v1/jobs?status=running', 'GET, HEAD, POST'],
      ['PUT', '/v1/jobs/0000000000aaaaaaaaaaaaaaaa', 'GET, HEAD'],
      ['PATCH', '/v1/files/logs/2026/a.txt', 'DELETE, GET, HEAD, PUT'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['GET', '/v1/jobs//cancel', 'POST'],
      ['POST', '/docs/', 'GET, HEAD'],
    ] as const) {
      const response = await env.app.inject({ method, url });
      const problem = problemOf(response, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(response.headers.allow, allow, `${method} ${url}`);
      assert.deepEqual(problem['allowed'], allow.split(', '));
    }
  });

  it('hides the message of unexpected errors', () => {
    const problem = toProblem(new Error('secret connection string'), '/v1/jobs', { bodyLimitBytes: 1024 });
    assert.equal(problem.status, 500);
    assert.equal(problem.code, 'INTERNAL_ERROR');
    assert.equal(problem.detail, 'internal error');
    assert.equal(JSON.stringify(problem).includes('secret'), false);
  });
});

/**
 * Sends `request` as it is (and `later`, in a write of its own a moment after) and
 * reads the answer until the server closes the connection.
 */
function rawExchange(port: number, request: string, later?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      if (later === undefined) return void socket.end(request);
      socket.write(request);
      setTimeout(() => socket.end(later), 30);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}

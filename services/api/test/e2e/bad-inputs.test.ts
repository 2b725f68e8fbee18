/**
 * End to end, on one local stack with small limits (1 MiB bodies, 50,000 spec
 * nodes): every kind of bad request gets its status, problem code and JSON Pointer,
 * and none of them hurts the API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsonOf, postOversized, Stack, type HttpResult, type Problem } from './stack.js';

const BODY_LIMIT_BYTES = 1_048_576;
const MAX_SPEC_NODES = 50_000;

/** Checks a problem response and returns its body. */
function expectProblem(response: HttpResult, status: number, code: string): Problem {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = jsonOf<Problem>(response);
  assert.equal(problem.status, status);
  assert.equal(problem.code, code, response.text);
  assert.equal(problem.type, `https://weft.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`);
  assert.equal(typeof problem.title, 'string');
  assert.equal(typeof problem.detail, 'string');
  return problem;
}

describe('e2e: bad inputs on the local stack', { timeout: 180_000 }, () => {
  let stack: Stack;
  let apiPid: number | null;
  const test = (name: string, body: () => Promise<void>): void => {
    it(name, { timeout: 60_000 }, () => stack.diagnose(body));
  };
  const postText = (body: string, contentType = 'application/json') =>
    stack.request('POST', '/v1/jobs', { body, contentType });

  before(async () => {
    stack = await Stack.start({
      env: { WEFT_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES), WEFT_MAX_SPEC_NODES: String(MAX_SPEC_NODES) },
    });
    apiPid = stack.state().api.pid;
  });
  after(async () => {
    await stack?.stop();
  });

  test('malformed JSON: 400 MALFORMED_JSON', async () => {
    const problem = expectProblem(await postText('{"task":'), 400, 'MALFORMED_JSON');
    assert.equal(problem.instance, '/v1/jobs');
    assert.equal(problem.errors?.length, 1);
    assert.equal(problem.errors?.[0]?.pointer, '');
    expectProblem(await postText(''), 400, 'MALFORMED_JSON');
    expectProblem(await postText('{"task":"add","args":[1,2]} trailing'), 400, 'MALFORMED_JSON');
  });

  test('unknown task: 400 UNKNOWN_TASK listing the known tasks', async () => {
    const catalogue = jsonOf<{ tasks: { name: string }[] }>(await stack.request('GET', '/v1/tasks'));
    const known = catalogue.tasks.map((task) => task.name);

    const problem = expectProblem(await stack.submit({ task: 'nope', args: [] }), 400, 'UNKNOWN_TASK');
    assert.deepEqual(problem.errors, [{ pointer: '/task', message: 'unknown task "nope"' }]);
    assert.equal(problem['task'], 'nope');
    assert.deepEqual(problem['knownTasks'], known);
    for (const name of known) assert.ok(problem.detail.includes(name), `detail does not list ${name}: ${problem.detail}`);

    const nested = expectProblem(
      await stack.submit({ chain: [{ task: 'add', args: [1, 2] }, { group: [{ task: 'nope' }] }] }),
      400,
      'UNKNOWN_TASK',
    );
    assert.equal(nested.errors?.[0]?.pointer, '/chain/1/group/0/task');
  });

  test('wrong argument types: 400 INVALID_TASK_ARGS at the argument', async () => {
    const problem = expectProblem(await stack.submit({ task: 'add', args: ['x', 1] }), 400, 'INVALID_TASK_ARGS');
    assert.deepEqual(
      problem.errors?.map((issue) => issue.pointer),
      ['/args/0'],
    );
    assert.equal(problem['task'], 'add');

    // In a chain step, the arguments follow the incoming value; pointers still index `args`.
    const step = expectProblem(
      await stack.submit({ chain: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: ['y'] }] }),
      400,
      'INVALID_TASK_ARGS',
    );
    assert.deepEqual(
      step.errors?.map((issue) => issue.pointer),
      ['/chain/1/args/0'],
    );

    const count = expectProblem(await stack.submit({ task: 'add', args: [1] }), 400, 'INVALID_TASK_ARGS');
    assert.ok((count.errors?.length ?? 0) > 0);
  });

  test('invalid spec shape: 400 INVALID_SPEC at the field', async () => {
    const retries = expectProblem(await stack.submit({ task: 'add', args: [1, 2], retries: -1 }), 400, 'INVALID_SPEC');
    assert.deepEqual(
      retries.errors?.map((issue) => issue.pointer),
      ['/retries'],
    );
    const twoKinds = expectProblem(await stack.submit({ chain: [{ task: 'add', args: [1, 2], group: [] }] }), 400, 'INVALID_SPEC');
    assert.deepEqual(
      twoKinds.errors?.map((issue) => issue.pointer),
      ['/chain/0'],
    );
    expectProblem(await stack.submit([1, 2, 3]), 400, 'INVALID_SPEC');
  });

  test('too deep: 40 nested chains → 400 SPEC_LIMIT_EXCEEDED (maxDepth 32)', async () => {
    let spec: unknown = { task: 'add', args: [1, 2] };
    for (let i = 0; i < 40; i++) spec = { chain: [spec] };
    const problem = expectProblem(await stack.submit(spec), 400, 'SPEC_LIMIT_EXCEEDED');
    assert.equal(problem['limit'], 'maxDepth');
    assert.equal(problem['max'], 32);
    // The first node deeper than 32 levels.
    assert.deepEqual(
      problem.errors?.map((issue) => issue.pointer),
      ['/chain/0'.repeat(32)],
    );
  });

  test(`too many nodes: a group of 60000 > ${MAX_SPEC_NODES} → 413 SPEC_LIMIT_EXCEEDED`, async () => {
    const body = JSON.stringify({ group: Array.from({ length: 60_000 }, () => ({ task: 'echo' })) });
    assert.ok(body.length < BODY_LIMIT_BYTES, `the spec (${body.length} bytes) must fit under the body limit`);
    const problem = expectProblem(await postText(body), 413, 'SPEC_LIMIT_EXCEEDED');
    assert.equal(problem['limit'], 'maxNodes');
    assert.equal(problem['max'], MAX_SPEC_NODES);
    // The root is node 1: the 50,001st node is member 49,999.
    assert.deepEqual(
      problem.errors?.map((issue) => issue.pointer),
      ['/group/49999'],
    );
  });

  test('oversized body: 2 MB over a 1 MiB limit → 413 BODY_TOO_LARGE', async () => {
    const body = Buffer.from(JSON.stringify({ task: 'echo', args: ['x'.repeat(2 * 1024 * 1024)] }));
    const problem = expectProblem(await postOversized(stack.url('/v1/jobs'), body), 413, 'BODY_TOO_LARGE');
    assert.match(problem.detail, new RegExp(`${BODY_LIMIT_BYTES}`));
  });

  test('unknown job: 404 JOB_NOT_FOUND, for GET, GET ?wait and the event stream', async () => {
    const id = '0000000000zzzzzzzzzzzzzzzz';
    const problem = expectProblem(await stack.request('GET', `/v1/jobs/${id}`), 404, 'JOB_NOT_FOUND');
    assert.equal(problem['jobId'], id);
    assert.equal(problem.instance, `/v1/jobs/${id}`);
    expectProblem(await stack.request('GET', `/v1/jobs/${id}?wait=5`), 404, 'JOB_NOT_FOUND');
    expectProblem(await stack.request('GET', `/v1/jobs/${id}/events`), 404, 'JOB_NOT_FOUND');
    // Not even shaped like a job id.
    expectProblem(await stack.request('GET', '/v1/jobs/not-a-job'), 404, 'JOB_NOT_FOUND');
    expectProblem(await stack.request('GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
  });

  test('wrong content type: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectProblem(await postText('{"task":"add","args":[4,6]}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(
      await postText('task=add', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  test('bad query parameters: 400 INVALID_REQUEST', async () => {
    const problem = expectProblem(
      await stack.request('POST', '/v1/jobs?wait=soon', {
        body: JSON.stringify({ task: 'add', args: [4, 6] }),
        contentType: 'application/json',
      }),
      400,
      'INVALID_REQUEST',
    );
    assert.equal(problem.errors?.[0]?.pointer, '/query/wait');
  });

  test('after all that, a good job still succeeds and the API never restarted', async () => {
    const { job } = await stack.run({ task: 'add', args: [4, 6] });
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result, 10);
    assert.equal(stack.state().api.pid, apiPid, 'the API process was restarted: it crashed');
    const health = await stack.request('GET', '/readyz');
    assert.equal(health.status, 200);
    // Nothing was submitted by the rejected requests.
    const listed = jsonOf<{ jobs: unknown[] }>(await stack.request('GET', '/v1/jobs?limit=500')).jobs;
    assert.equal(listed.length, 1);
  });
});

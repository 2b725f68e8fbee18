import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeWire, newJobId } from '@weft/shared';
import type { JobAccepted, JobList, JobView } from '../src/index.js';
import { SubmissionKeys } from '../src/jobs/submission-keys.js';
import { bodyOf, postJson, problemOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('submissions with an Idempotency-Key', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  const submit = (spec: unknown, key: string, query = '') => postJson(env.app, `/v1/jobs${query}`, spec, { 'idempotency-key': key });
  const labelled = async (label: string) =>
    bodyOf<JobList>(await env.app.inject({ url: '/v1/jobs?limit=500' })).jobs.filter((job) => job.label === label);

  it('makes one job of a request sent again, and answers the repeat with it', async () => {
    const key = randomUUID();
    const spec = { task: 'add', args: [2, 3], label: `once-${key}` };
    const first = await submit(spec, key);
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const id = bodyOf<JobAccepted>(first).id;
    const again = await submit(spec, key, '?wait=20');
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.headers.location, `/v1/jobs/${id}`);
    const job = bodyOf<JobView>(again);
    assert.deepEqual([job.id, job.status, job.result], [id, 'succeeded', 5]);
    const late = await submit(spec, key);
    assert.deepEqual([late.statusCode, bodyOf<JobAccepted>(late).id, bodyOf<JobAccepted>(late).status], [202, id, 'succeeded']);
    assert.equal((await labelled(spec.label)).length, 1);
  });

  it('answers a repeat without preparing or publishing its job again', async () => {
    const key = randomUUID();
    const spec = { task: 'add', args: [4, 5] };
    const first = bodyOf<JobView>(await submit(spec, key, '?wait=20'));
    assert.deepEqual([first.status, first.result], ['succeeded', 9]);
    // Work items are published on the queue's subject, which a plain subscription sees
    // even when JetStream drops a duplicate.
    const published: unknown[] = [];
    const subscription = env.nc.subscribe(env.infra.names.taskSubject('default'), {
      callback: (_err, msg) => {
        published.push(decodeWire(msg.string()));
      },
    });
    await env.nc.flush();
    for (const query of ['', '?wait=5']) {
      const again = await submit(spec, key, query);
      assert.equal(again.statusCode, query === '' ? 202 : 200, again.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscription.unsubscribe();
    assert.deepEqual(published.filter((item) => (item as { jobId?: string }).jobId === first.id), []);
  });

  it('makes one job of many requests sent at once', async () => {
    const key = randomUUID();
    const spec = { task: 'sleep', args: [200, 'slept'], label: `race-${key}` };
    const answers = await Promise.all(Array.from({ length: 8 }, () => submit(spec, key, '?wait=20')));
    const ids = new Set(answers.map((answer) => bodyOf<JobView>(answer).id));
    assert.equal(ids.size, 1, [...ids].join(', '));
    for (const answer of answers) assert.equal(bodyOf<JobView>(answer).result, 'slept', answer.body);
    assert.equal((await labelled(spec.label)).length, 1);
  });

  it('answers a repeat with its job although its input file is gone, and whatever the order of its keys', async () => {
    const key = randomUUID();
    const name = `idempotent/${key}.txt`;
    assert.equal((await env.app.inject({ method: 'PUT', url: `/v1/files/${name}`, payload: 'one two\nthree\n' })).statusCode, 201);
    const spec = { mapReduce: { input: { file: name }, map: { task: 'line-count' }, reduce: { task: 'line-count' } } };
    const first = bodyOf<JobView>(await submit(spec, key, '?wait=20'));
    assert.deepEqual([first.status, first.result], ['succeeded', 2]);
    assert.equal((await env.app.inject({ method: 'DELETE', url: `/v1/files/${name}` })).statusCode, 204);
    const reordered = { mapReduce: { reduce: { task: 'line-count' }, map: { task: 'line-count' }, input: { file: name } } };
    const again = await submit(reordered, key, '?wait=20');
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual([bodyOf<JobView>(again).id, bodyOf<JobView>(again).result], [first.id, 2]);
  });

  it('refuses a key used before for another request with 422, naming its job', async () => {
    const key = randomUUID();
    const id = bodyOf<JobAccepted>(await submit({ task: 'add', args: [1, 1] }, key)).id;
    const problem = problemOf(await submit({ task: 'add', args: [1, 2] }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(problem['jobId'], id);
  });

  it('starts the job of a key whose first request died before starting it', async () => {
    const key = randomUUID();
    const spec = { task: 'multiply', args: [6, 7] };
    // As a request leaves it that claimed the key and died before publishing the job.
    const claimed = newJobId();
    await new SubmissionKeys(env.infra.state).claim(key, spec, claimed);
    const response = await submit(spec, key, '?wait=20');
    assert.equal(response.statusCode, 200, response.body);
    const job = bodyOf<JobView>(response);
    assert.deepEqual([job.id, job.status, job.result], [claimed, 'succeeded', 42]);
  });

  it('refuses keys that are empty, too long or not visible ASCII, naming the header', async () => {
    for (const key of ['', 'a'.repeat(256), 'with space', 'é']) {
      const problem = problemOf(await submit({ task: 'add', args: [1, 1] }, key), 400, 'INVALID_REQUEST');
      assert.deepEqual(
        (problem.errors ?? []).map((e) => e.pointer),
        ['/headers/idempotency-key'],
        JSON.stringify(key),
      );
    }
  });
});

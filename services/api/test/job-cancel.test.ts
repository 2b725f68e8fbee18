import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { JobAccepted, JobView, Problem } from '../src/index.js';
import { readEventStream } from './helpers/event-stream.js';
import { bodyOf, postJson, problemOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('POST /v1/jobs/:id/cancel', () => {
  let env: TestEnv;
  let base: string;
  before(async () => {
    env = await startTestEnv();
    await env.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(env.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await env?.close();
  });

  /** Submits a job that runs for a minute unless cancelled. @returns its id */
  async function longJob(): Promise<string> {
    const response = await postJson(env.app, '/v1/jobs', { chain: [{ task: 'sleep', args: [60_000] }, { task: 'add', args: [1] }] });
    assert.equal(response.statusCode, 202, response.body);
    return bodyOf<JobAccepted>(response).id;
  }

  const cancel = (id: string, body?: unknown) =>
    body === undefined ? env.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` }) : postJson(env.app, `/v1/jobs/${id}/cancel`, body);

  it('cancels a running job: the answer, GET, a waiting GET and the event stream all show it', async () => {
    const id = await longJob();
    const waiting = env.app.inject({ method: 'GET', url: `/v1/jobs/${id}?wait=30` });
    const events = readEventStream(`${base}/v1/jobs/${id}/events`, { timeoutMs: 10_000 });
    // Once it runs on the worker.
    for (;;) {
      const job = bodyOf<JobView>(await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}` }));
      if (job.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const response = await cancel(id, { reason: 'changed my mind' });
    assert.equal(response.statusCode, 200, response.body);
    const cancelled = bodyOf<JobView>(response);
    assert.equal(cancelled.id, id);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(cancelled.error, { code: 'JOB_CANCELLED', message: 'cancelled: changed my mind' });
    assert.equal(cancelled.result, undefined);
    assert.equal(typeof cancelled.durationMs, 'number');

    const waited = await waiting;
    assert.equal(waited.statusCode, 200);
    assert.deepEqual(bodyOf<JobView>(waited), cancelled);
    assert.deepEqual(bodyOf<JobView>(await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })), cancelled);

    const stream = await events;
    const last = stream.events.at(-1);
    assert.equal(last?.event, 'job');
    assert.equal((JSON.parse(last.data) as { status: string }).status, 'cancelled');
    assert.equal(stream.events.filter((e) => e.event === 'tasks').length, 0);

    // The worker let go of the task at once (it would have slept for a minute).
    const worker = env.worker;
    assert.ok(worker);
    const deadline = Date.now() + 10_000;
    while (worker.inFlightCount > 0) {
      assert.ok(Date.now() < deadline, 'the worker still runs the cancelled task');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('answers the same to a second cancel, with or without a body', async () => {
    const id = await longJob();
    const first = bodyOf<JobView>(await cancel(id));
    assert.equal(first.status, 'cancelled');
    assert.deepEqual(first.error, { code: 'JOB_CANCELLED', message: 'cancelled' });
    const again = await cancel(id, { reason: 'twice' });
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(bodyOf<JobView>(again), first);
    // As `curl -X POST -H 'content-type: application/json'` sends it: the header, no body.
    const empty = await env.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: { 'content-type': 'application/json' } });
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(bodyOf<JobView>(empty), first);
  });

  it('answers 409 JOB_ENDED for a job that succeeded, and leaves it as it was', async () => {
    const done = await postJson(env.app, '/v1/jobs?wait=20', { task: 'add', args: [2, 3] });
    const job = bodyOf<JobView>(done);
    assert.equal(job.status, 'succeeded', done.body);
    const problem = problemOf(await cancel(job.id), 409, 'JOB_ENDED') as Problem & { jobId?: string; jobStatus?: string };
    assert.equal(problem.jobId, job.id);
    assert.equal(problem.jobStatus, 'succeeded');
    assert.deepEqual(bodyOf<JobView>(await env.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })), job);
  });

  it('answers 404 JOB_NOT_FOUND for unknown ids', async () => {
    for (const id of ['01aaaaaaaaaaaaaaaaaaaaaaaa', 'not-a-job-id']) problemOf(await cancel(id), 404, 'JOB_NOT_FOUND');
  });

  it('answers 400 for a bad body, naming the field, and cancels nothing', async () => {
    const id = await longJob();
    const cases: [unknown, string][] = [
      [{ reason: 5 }, '/reason'],
      [{ reason: '' }, '/reason'],
      [{ reason: 'x'.repeat(501) }, '/reason'],
      [{ why: 'unknown field' }, ''],
    ];
    for (const [body, pointer] of cases) {
      const problem = problemOf(await cancel(id, body), 400, 'INVALID_REQUEST');
      assert.ok(problem.errors?.some((e) => e.pointer === pointer), JSON.stringify(problem.errors));
    }
    problemOf(await postJson(env.app, `/v1/jobs/${id}/cancel`, '{"reason":'), 400, 'MALFORMED_JSON');
    assert.equal(bodyOf<JobView>(await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).status !== 'cancelled', true);
    await cancel(id);
  });
});

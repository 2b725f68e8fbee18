import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveWorkerConfig } from '@weft/shared';
import { Worker } from '@weft/worker';
import type { JobAccepted, JobList, JobView } from '../src/index.js';
import { putHeartbeat } from './helpers/heartbeats.js';
import { bodyOf, postJson } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

/** A job whose second step goes to the `gpu` queue; its first runs on `default`. */
const GPU_CHAIN = { chain: [{ task: 'add', args: [1, 2] }, { task: 'multiply', args: [2], queue: 'gpu' }] };

describe('warnings about queues no live worker pulls from', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  /** Submits `spec` without waiting until `check` holds for the answer (the API learns of workers as they change). */
  async function submitUntil(spec: unknown, check: (accepted: JobAccepted) => boolean): Promise<JobAccepted> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await postJson(env.app, '/v1/jobs', spec);
      assert.equal(response.statusCode, 202, response.body);
      const accepted = bodyOf<JobAccepted>(response);
      if (check(accepted)) return accepted;
      assert.ok(Date.now() < deadline, `the answer never changed: ${response.body}`);
      await sleep(100);
    }
  }

  it('names the queues of a job no live worker pulls from, until one does', async () => {
    const first = await submitUntil(GPU_CHAIN, (accepted) => accepted.warnings !== undefined);
    assert.deepEqual(first.warnings, [
      { code: 'NO_LIVE_WORKERS', queue: 'gpu', message: 'no live worker pulls from queue "gpu": the job\'s work there waits until one does' },
    ]);

    // Views of the job say so too, as long as it has not finished.
    const got = bodyOf<JobView>(await env.app.inject({ method: 'GET', url: first.links.self }));
    assert.deepEqual(got.warnings, first.warnings);
    assert.equal('queues' in got, false);
    const listed = bodyOf<JobList>(await env.app.inject({ method: 'GET', url: '/v1/jobs' }));
    assert.deepEqual(listed.jobs.find((job) => job.id === first.id)?.warnings, first.warnings);

    // The worker of the test environment pulls from `default`.
    const served = await postJson(env.app, '/v1/jobs', { task: 'add', args: [1, 2] });
    assert.equal(served.statusCode, 202, served.body);
    assert.equal('warnings' in bodyOf(served), false);

    // Waiting: the job has not finished when the wait ends, and the answer says why.
    const waited = await postJson(env.app, '/v1/jobs?wait=0.3', GPU_CHAIN);
    assert.equal(waited.statusCode, 202, waited.body);
    const view = bodyOf<JobView>(waited);
    assert.ok(view.status === 'queued' || view.status === 'running', view.status);
    assert.deepEqual(view.warnings?.map((w) => w.queue), ['gpu']);

    const gpu = await Worker.create(
      resolveWorkerConfig({ natsUrl: env.server.url, prefix: env.config.prefix, queues: ['gpu'], threads: 1, heartbeatMs: 500, logLevel: 'silent' }),
    );
    try {
      for (const id of [first.id, view.id]) {
        const done = await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}?wait=20` });
        assert.equal(bodyOf<JobView>(done).result, 6, done.body);
        assert.equal('warnings' in bodyOf(done), false);
      }
      await submitUntil(GPU_CHAIN, (accepted) => accepted.warnings === undefined);
      const finished = await postJson(env.app, '/v1/jobs?wait=20', GPU_CHAIN);
      assert.equal(finished.statusCode, 200, finished.body);
      assert.equal('warnings' in bodyOf(finished), false);
    } finally {
      await gpu.close();
    }
    // A worker that stops removes its heartbeat: the queue has no worker again.
    await submitUntil(GPU_CHAIN, (accepted) => accepted.warnings?.[0]?.queue === 'gpu');
  });

  it('does not count a worker whose heartbeat is stale', async () => {
    await putHeartbeat(env.infra, 'ghost-1', ['ghosts'], 10_000);
    await putHeartbeat(env.infra, 'ghost-2', ['spirits'], -60_000);
    // Once the fresh one is seen, the stale one has been read too.
    const accepted = await submitUntil(
      { group: [{ task: 'add', args: [1, 2], queue: 'ghosts' }, { task: 'add', args: [1, 2], queue: 'spirits' }] },
      (answer) => answer.warnings?.length === 1,
    );
    assert.deepEqual(accepted.warnings?.map((w) => w.queue), ['ghosts']);
  });
});

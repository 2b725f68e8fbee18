import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { decodeJobRecord, parseJsonText } from '@weft/shared';
import type { JobAccepted, JobList, JobView } from '../src/index.js';
import { bodyOf, postJson, problemOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('jobs', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  /** Submits `spec` and waits up to 20 s; the job must have finished. */
  async function run(spec: unknown): Promise<JobView> {
    const response = await postJson(env.app, '/v1/jobs?wait=20', spec);
    assert.equal(response.statusCode, 200, response.body);
    return bodyOf<JobView>(response);
  }

  it('rejects arguments nested too deep with 400, at any depth (within the body limit)', async () => {
    // A few thousand levels passed the parser but overflowed the stack further on (a 500).
    for (const levels of [5_000, 100_000]) {
      for (const leaf of ['1', '12345678901234567890']) {
        const body = `{"task": "echo", "args": [${'['.repeat(levels)}${leaf}${']'.repeat(levels)}]}`;
        const problem = problemOf(await postJson(env.app, '/v1/jobs', body), 400, 'MALFORMED_JSON');
        assert.match(problem.detail ?? '', /more than 1000 levels deep/);
      }
    }
  });

  it('refuses a million items no map task can take with a short 400', async () => {
    const items = Array.from({ length: 1_000_000 }, () => 'x');
    const spec = { mapReduce: { input: { items }, chunkSize: 1000, map: { task: 'word-count' }, reduce: { task: 'word-count' } } };
    const problem = problemOf(await postJson(env.app, '/v1/jobs', spec), 400, 'INVALID_TASK_ARGS');
    assert.equal(problem.errors?.[0]?.pointer, '/mapReduce/input/items/0');
    assert.ok((problem.errors?.length ?? 0) <= 20, `${problem.errors?.length} issues`);
  });

  it('gives back user data shaped like the internal big-integer envelope unchanged', async () => {
    const data = { $bigint: '123', nested: [{ $bigint: '-4' }, { $$bigint: 'x' }] };
    const job = await run({ chain: [{ task: 'echo', args: [data] }, { task: 'echo' }] });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual(job.result, data);
  });

  it('runs add 4 6 → 10 and answers 200 when waiting', async () => {
    const response = await postJson(env.app, '/v1/jobs?wait=20', { task: 'add', args: [4, 6], label: 'sum' });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(response.headers['content-type'] as string, /^application\/json/);
    const job = bodyOf<JobView>(response);
    assert.equal(response.headers.location, `/v1/jobs/${job.id}`);
    assert.match(job.id, /^[0-9a-z]{26}$/);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.kind, 'task');
    assert.equal(job.label, 'sum');
    assert.equal(job.result, 10);
    assert.deepEqual(job.progress, { done: 1, total: 1 });
    assert.equal(typeof job.durationMs, 'number');
    assert.ok(job.startedAt !== undefined && job.finishedAt !== undefined);
    assert.equal(job.error, undefined);
    assert.deepEqual(job.links, { self: `/v1/jobs/${job.id}`, events: `/v1/jobs/${job.id}/events` });
  });

  it('answers 202 with a Location without wait, then GET ?wait returns the result', async () => {
    const response = await postJson(env.app, '/v1/jobs', { task: 'add', args: [1, 2] });
    assert.equal(response.statusCode, 202, response.body);
    const accepted = bodyOf<JobAccepted>(response);
    assert.deepEqual(Object.keys(accepted).sort(), ['createdAt', 'id', 'links', 'progress', 'status']);
    assert.equal(accepted.status, 'queued');
    assert.deepEqual(accepted.progress, { done: 0, total: 1 });
    assert.equal(response.headers.location, accepted.links.self);

    const got = await env.app.inject({ method: 'GET', url: `${accepted.links.self}?wait=20` });
    assert.equal(got.statusCode, 200, got.body);
    const job = bodyOf<JobView>(got);
    assert.equal(job.id, accepted.id);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result, 3);

    const plain = await env.app.inject({ method: 'GET', url: accepted.links.self });
    assert.equal(plain.statusCode, 200);
    assert.equal(bodyOf<JobView>(plain).result, 3);
  });

  it('runs a chain add → multiply', async () => {
    const job = await run({ chain: [{ task: 'add', args: [4, 6] }, { task: 'multiply', args: [2] }] });
    assert.equal(job.kind, 'chain');
    assert.equal(job.result, 20);
    assert.deepEqual(job.progress, { done: 2, total: 2 });
  });

  it('runs a group and keeps the submission order', async () => {
    const job = await run({
      group: [
        { task: 'sleep', args: [300, 'slow'] },
        { task: 'add', args: [1, 2] },
        { task: 'echo', args: ['x'] },
        { chain: [{ task: 'add', args: [2, 3] }, { task: 'multiply', args: [10] }] },
      ],
    });
    assert.equal(job.kind, 'group');
    assert.deepEqual(job.result, ['slow', 3, 'x', 50]);
  });

  it('runs a chord with a sum body', async () => {
    const job = await run({
      chord: {
        header: [1, 2, 3, 4, 5].map((n) => ({ task: 'multiply', args: [n, n] })),
        body: { task: 'sum' },
      },
    });
    assert.equal(job.kind, 'chord');
    assert.equal(job.result, 55);
  });

  it('runs a map-reduce of squares over 1..1000 in chunks of 100', async () => {
    const job = await run({
      mapReduce: {
        input: { range: { start: 1, end: 1001 } },
        chunkSize: 100,
        map: { task: 'squares' },
        reduce: { task: 'sum' },
      },
    });
    assert.equal(job.kind, 'mapReduce');
    assert.equal(job.result, 333833500);
    assert.equal(job.progress.done, job.progress.total);
  });

  it('returns a sum beyond 2^53 with every digit', async () => {
    const response = await postJson(env.app, '/v1/jobs?wait=25', {
      mapReduce: {
        input: { range: { start: 1, end: 1_000_001 } },
        chunks: 100,
        map: { task: 'sum-of-squares' },
        reduce: { task: 'sum' },
      },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(response.body, /"result":333333833333500000[,}]/);
    assert.equal(bodyOf<JobView>(response).status, 'succeeded');
  });

  it('sends a result larger than a message streamed, as stored or with its big integers rewritten', async () => {
    const squares = Array.from({ length: 150_000 }, (_, i) => i * i);
    // ~1.7 MB of plain JSON; then the same beside an integer beyond 2^53, stored with a big-integer envelope.
    const cases = [
      { spec: { task: 'squares', args: [{ start: 0, end: 150_000 }] }, result: squares },
      {
        spec: { group: [{ task: 'squares', args: [{ start: 0, end: 150_000 }] }, { task: 'add', args: [2 ** 53, 1] }] },
        result: [squares, 2n ** 53n + 1n],
      },
    ];
    for (const { spec, result } of cases) {
      const submitted = await postJson(env.app, '/v1/jobs?wait=20', spec);
      const fetched = await env.app.inject({ method: 'GET', url: `/v1/jobs/${bodyOf<JobView>(submitted).id}` });
      for (const response of [submitted, fetched]) {
        assert.equal(response.statusCode, 200, response.body.slice(0, 500));
        assert.match(response.headers['content-type'] as string, /^application\/json/);
        // A stream has no length known ahead.
        assert.equal(response.headers['content-length'], undefined);
        const job = parseJsonText(response.body) as JobView;
        assert.equal(job.status, 'succeeded');
        assert.deepEqual(job.result, result);
        assert.deepEqual(job.links, { self: `/v1/jobs/${job.id}`, events: `/v1/jobs/${job.id}/events` });
      }
      const head = await env.app.inject({ method: 'HEAD', url: `/v1/jobs/${bodyOf<JobView>(submitted).id}` });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
    }
  });

  it('answers 410 for a streamed result with chunks missing, and cuts the connection on one read corrupt', async () => {
    const job = bodyOf<JobView>(await postJson(env.app, '/v1/jobs?wait=20', { task: 'squares', args: [{ start: 0, end: 150_000 }] }));
    const entry = await env.infra.jobs.get(job.id);
    assert.ok(entry);
    const stored = decodeJobRecord(entry.value).result;
    assert.ok(stored !== undefined && 'ref' in stored, JSON.stringify(stored));
    const info = await env.infra.blobs.info(stored.ref);
    assert.ok(info && info.chunks > 2, `${info?.chunks} chunks`);
    // The second chunk is replaced by other bytes: that shows only once all are read.
    const stream = `OBJ_${info.bucket}`;
    const chunkSubject = `$O.${info.bucket}.C.${info.nuid}`;
    const first = await env.infra.jsm.direct.getMessage(stream, { seq: 1, next_by_subj: chunkSubject });
    assert.ok(first);
    const second = await env.infra.jsm.direct.getMessage(stream, { seq: first.seq + 1, next_by_subj: chunkSubject });
    assert.ok(second);
    await env.infra.jsm.streams.deleteMessage(stream, second.seq);
    await env.infra.js.publish(chunkSubject, second.data.map((byte) => (byte === 0x30 ? 0x31 : byte)));

    const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const { status, complete, body } = await new Promise<{ status: number | undefined; complete: boolean; body: string }>((resolve, reject) => {
      http
        .get(`${address}/v1/jobs/${job.id}`, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          // Errors with "aborted" when the server cuts the connection.
          response.on('error', () => undefined);
          response.on('close', () => resolve({ status: response.statusCode, complete: response.complete, body: text }));
        })
        .on('error', reject);
    });
    assert.equal(status, 200);
    assert.equal(complete, false, 'the response was cut short');
    assert.ok(body.startsWith(`{"id":"${job.id}"`), body.slice(0, 100));
    assert.throws(() => JSON.parse(body));

    // A HEAD request does not read the result.
    const head = await env.app.inject({ method: 'HEAD', url: `/v1/jobs/${job.id}` });
    assert.equal(head.statusCode, 200);
    // With a chunk gone, the result is known to be gone before anything is sent.
    await env.infra.jsm.streams.deleteMessage(stream, first.seq);
    problemOf(await env.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` }), 410, 'VALUE_NOT_FOUND');
  });

  it('accepts integers beyond 2^53 in specs', async () => {
    const response = await postJson(env.app, '/v1/jobs?wait=20', '{"task":"add","args":[9007199254740993,1]}');
    assert.equal(response.statusCode, 200, response.body);
    assert.match(response.body, /"result":9007199254740994[,}]/);
  });

  it('reports a failing task with its pointer and attempts', async () => {
    const job = await run({
      group: [
        { task: 'add', args: [1, 2] },
        { task: 'fail', args: ['boom'], retries: 2, backoffMs: 10, label: 'doomed' },
      ],
    });
    assert.equal(job.status, 'failed');
    assert.equal(job.result, undefined);
    assert.ok(job.error !== undefined);
    assert.equal(job.error.node, '/group/1');
    assert.equal(job.error.task, 'fail');
    assert.equal(job.error.attempts, 3);
    assert.equal(job.error.label, 'doomed');
    assert.match(job.error.message, /boom/);
  });

  it('answers 202 with the current view when the wait ends first', async () => {
    const started = Date.now();
    const response = await postJson(env.app, '/v1/jobs?wait=0.3', { task: 'sleep', args: [2000] });
    assert.equal(response.statusCode, 202, response.body);
    assert.ok(Date.now() - started >= 250);
    const job = bodyOf<JobView>(response);
    assert.equal(job.kind, 'task');
    assert.ok(job.status === 'queued' || job.status === 'running');

    const polled = await env.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}?wait=0.2` });
    assert.equal(polled.statusCode, 200);
    assert.notEqual(bodyOf<JobView>(polled).status, 'succeeded');

    const done = await env.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}?wait=10` });
    assert.equal(bodyOf<JobView>(done).result, 'slept 2000ms');
  });

  it('lists recent jobs, newest first, without results', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/v1/jobs?limit=3' });
    assert.equal(response.statusCode, 200, response.body);
    const { jobs } = bodyOf<JobList>(response);
    assert.equal(jobs.length, 3);
    const ids = jobs.map((j) => j.id);
    assert.deepEqual(ids, [...ids].sort().reverse());
    for (const job of jobs) assert.equal('result' in job, false);

    const failed = bodyOf<JobList>(await env.app.inject({ method: 'GET', url: '/v1/jobs?status=failed' })).jobs;
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.status, 'failed');
    assert.equal(failed[0]?.error?.node, '/group/1');

    const all = bodyOf<JobList>(await env.app.inject({ method: 'GET', url: '/v1/jobs' })).jobs;
    assert.ok(all.length >= 10);
  });
});

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeWire, newJobId, type JobEvent, type JobRecord } from '@weft/shared';
import type { JobAccepted, JobEndEventData, Problem, TaskEventData } from '../src/index.js';
import { readEventStream, type ReceivedStream } from './helpers/event-stream.js';
import { bodyOf, postJson } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

const taskEvents = (stream: ReceivedStream): TaskEventData[] =>
  stream.events.filter((e) => e.event === 'task').map((e) => JSON.parse(e.data) as TaskEventData);

const jobEvents = (stream: ReceivedStream): JobEndEventData[] =>
  stream.events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as JobEndEventData);

describe('job event streams', () => {
  let env: TestEnv;
  let base: string;
  before(async () => {
    env = await startTestEnv({ eventStreams: { heartbeatMs: 200, endGraceMs: 300 } });
    await env.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(env.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await env?.close();
  });

  /** Writes the record of a new job running `total` tasks, with no worker behind it. */
  async function putRunningRecord(kind: JobRecord['kind'], total: number): Promise<JobRecord> {
    const now = new Date().toISOString();
    const record: JobRecord = { id: newJobId(), status: 'running', kind, createdAt: now, startedAt: now, progress: { done: 0, total } };
    await env.infra.jobs.put(record.id, encodeWire(record));
    return record;
  }

  async function submit(spec: unknown): Promise<JobAccepted> {
    const response = await postJson(env.app, '/v1/jobs', spec);
    assert.equal(response.statusCode, 202, response.body);
    return bodyOf<JobAccepted>(response);
  }

  it('follows a group live: a task event per member, then the job event', async () => {
    // The sleep outlasts several 200 ms heartbeats however late the stream opens.
    const job = await submit({
      group: [
        { task: 'sleep', args: [900, 'a'] },
        { task: 'add', args: [1, 2] },
        { task: 'echo', args: [{ big: 12345678901234567890n.toString() }] },
      ],
    });
    const stream = await readEventStream(base + job.links.events);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(stream.headers.get('cache-control'), 'no-cache');
    assert.equal(stream.headers.get('x-accel-buffering'), 'no');
    assert.ok(stream.headers.get('x-request-id'));
    const tasks = taskEvents(stream);
    assert.deepEqual(tasks.map((t) => t.node).sort(), ['/group/0', '/group/1', '/group/2']);
    for (const task of tasks) {
      assert.equal(task.jobId, job.id);
      assert.equal(task.attempts, 1);
      assert.equal(typeof task.durationMs, 'number');
    }
    assert.equal(tasks.find((t) => t.node === '/group/1')?.value, 3);
    assert.equal(tasks.find((t) => t.node === '/group/0')?.task, 'sleep');
    const ends = jobEvents(stream);
    assert.equal(ends.length, 1);
    assert.equal(stream.events.at(-1)?.event, 'job');
    assert.equal(ends[0]?.status, 'succeeded');
    assert.equal(ends[0]?.jobId, job.id);
    assert.ok(stream.comments.some((c) => c.startsWith('keep-alive')), 'heartbeat comments');
  });

  it('replays a finished job and resumes after Last-Event-ID', async () => {
    const response = await postJson(env.app, '/v1/jobs?wait=20', {
      chain: [{ task: 'add', args: [1, 1] }, { task: 'add', args: [1] }, { task: 'multiply', args: [10] }],
    });
    assert.equal(response.statusCode, 200, response.body);
    const { id } = bodyOf<{ id: string }>(response);
    const full = await readEventStream(`${base}/v1/jobs/${id}/events`);
    assert.deepEqual(
      taskEvents(full).map((t) => [t.node, t.value]),
      [
        ['/chain/0', 2],
        ['/chain/1', 3],
        ['/chain/2', 30],
      ],
    );
    assert.equal(jobEvents(full)[0]?.status, 'succeeded');

    const firstId = full.events[0]?.id;
    assert.match(firstId ?? '', /^\d+$/);
    const resumed = await readEventStream(`${base}/v1/jobs/${id}/events`, { headers: { 'last-event-id': firstId ?? '' } });
    assert.deepEqual(
      taskEvents(resumed).map((t) => t.node),
      ['/chain/1', '/chain/2'],
    );
    assert.equal(jobEvents(resumed)[0]?.status, 'succeeded');

    // Resuming after the end repeats the job event only.
    const lastId = full.events.at(-1)?.id;
    const afterEnd = await readEventStream(`${base}/v1/jobs/${id}/events`, { headers: { 'last-event-id': lastId ?? '' } });
    assert.deepEqual(
      afterEnd.events.map((e) => e.event),
      ['job'],
    );
  });

  it('ends a failed job with its error', async () => {
    const job = await submit({ task: 'fail', args: ['nope'], retries: 1, backoffMs: 10 });
    const stream = await readEventStream(base + job.links.events);
    assert.deepEqual(taskEvents(stream), []);
    const [end] = jobEvents(stream);
    assert.equal(end?.status, 'failed');
    assert.equal(end?.error?.attempts, 2);
    assert.match(end?.error?.message ?? '', /nope/);
  });

  it('makes up the job event when a terminal record has none', async () => {
    const id = newJobId(Date.now() - 5000);
    const finishedAt = new Date(Date.now() - 2000).toISOString();
    const record: JobRecord = {
      id,
      status: 'succeeded',
      kind: 'task',
      createdAt: new Date(Date.now() - 5000).toISOString(),
      startedAt: new Date(Date.now() - 4000).toISOString(),
      finishedAt,
      progress: { done: 1, total: 1 },
      result: { v: 7 },
    };
    const tasks: JobEvent = {
      type: 'tasks',
      jobId: id,
      at: finishedAt,
      tasks: [{ node: '', task: 'add', attempts: 1, durationMs: 1, value: 7 }],
    };
    await env.infra.js.publish(env.infra.names.eventSubject(id), encodeWire(tasks));
    await env.infra.jobs.put(id, encodeWire(record));

    const stream = await readEventStream(`${base}/v1/jobs/${id}/events`, { timeoutMs: 5000 });
    assert.deepEqual(
      stream.events.map((e) => e.event),
      ['task', 'job'],
    );
    assert.deepEqual(jobEvents(stream)[0], { jobId: id, status: 'succeeded', at: finishedAt });
  });

  it('makes up the end of a job of one task with the completion its record keeps', async () => {
    const id = newJobId(Date.now() - 5000);
    const finishedAt = new Date(Date.now() - 2000).toISOString();
    const completion = { node: '', task: 'add', attempts: 1, durationMs: 0.25, value: 7 };
    const record: JobRecord = {
      id,
      status: 'succeeded',
      kind: 'task',
      createdAt: new Date(Date.now() - 5000).toISOString(),
      finishedAt,
      progress: { done: 1, total: 1 },
      result: { v: 7 },
      tasks: [completion],
    };
    // The worker died before the end event, which was to carry the completion.
    await env.infra.jobs.put(id, encodeWire(record));

    const stream = await readEventStream(`${base}/v1/jobs/${id}/events`, { timeoutMs: 5000 });
    assert.deepEqual(
      stream.events.map((e) => e.event),
      ['task', 'job'],
    );
    assert.deepEqual(JSON.parse(stream.events[0]?.data ?? ''), { jobId: id, ...completion });
    // The views show no trace of it.
    const view = bodyOf<Record<string, unknown>>(await env.app.inject({ url: `/v1/jobs/${id}` }));
    assert.equal(view['tasks'], undefined);
  });

  it('makes up the job event when the record turns terminal while streaming', async () => {
    const running = await putRunningRecord('task', 1);
    const { id } = running;
    const reading = readEventStream(`${base}/v1/jobs/${id}/events`, { timeoutMs: 5000 });
    await sleep(300);
    const error = { code: 'TASK_FAILED', message: 'worker died', node: '' };
    await env.infra.jobs.put(id, encodeWire({ ...running, status: 'failed', finishedAt: new Date().toISOString(), error }));
    const stream = await reading;
    const [end] = jobEvents(stream);
    assert.equal(end?.status, 'failed');
    assert.deepEqual(end?.error, error);
  });

  it('answers HEAD with the stream\'s headers and no stream', async () => {
    const job = bodyOf<JobAccepted>(await postJson(env.app, '/v1/jobs', { task: 'add', args: [1, 2] }));
    const head = await env.app.inject({ method: 'HEAD', url: `/v1/jobs/${job.id}/events` });
    assert.equal(head.statusCode, 200);
    assert.match(head.headers['content-type'] as string, /^text\/event-stream/);
    assert.ok(head.headers['x-request-id']);
    assert.equal(head.body, '');
    const unknown = await env.app.inject({ method: 'HEAD', url: `/v1/jobs/${newJobId()}/events` });
    assert.equal(unknown.statusCode, 404);
  });

  it('answers 404 for unknown jobs', async () => {
    const stream = await readEventStream(`${base}/v1/jobs/${newJobId()}/events`);
    assert.equal(stream.status, 404);
    assert.equal((JSON.parse(stream.body) as Problem).code, 'JOB_NOT_FOUND');
  });

  it('stops consuming when the client disconnects', async () => {
    const job = await submit({ task: 'sleep', args: [3000] });
    const { jsm, names } = env.infra;
    // The stream's consumer exists while the client listens...
    let consuming = false;
    const watching = (async () => {
      for (let i = 0; i < 100 && !consuming; i++) {
        consuming = (await jsm.consumers.list(names.eventsStream).next()).length > 0;
        if (!consuming) await sleep(20);
      }
    })();
    const stream = await readEventStream(base + job.links.events, { until: (s) => consuming && s.comments.length >= 2 });
    await watching;
    assert.ok(consuming, 'a consumer while the client listens');
    assert.equal(stream.events.length, 0);
    // ...and goes once it has left.
    let consumers = -1;
    for (let i = 0; i < 50 && consumers !== 0; i++) {
      await sleep(100);
      consumers = (await jsm.consumers.list(names.eventsStream).next()).length;
    }
    assert.equal(consumers, 0, 'the ordered consumer is removed');
  });

  // Last in this file: it restarts the server under the other tests.
  it('carries on after nats-server restarts, without a gap or a repeat', async () => {
    const { js, names } = env.infra;
    const { id } = await putRunningRecord('group', 6);
    const publishTask = (i: number) =>
      js.publish(
        names.eventSubject(id),
        encodeWire({
          type: 'tasks',
          jobId: id,
          at: new Date().toISOString(),
          tasks: [{ node: `/group/${i}`, task: 'add', attempts: 1, durationMs: 1, value: i }],
        } satisfies JobEvent),
      );
    for (const i of [0, 1, 2]) await publishTask(i);

    const reconnected = (async () => {
      for await (const status of env.nc.status()) if (status.type === 'reconnect') return;
    })();
    const restartAndFinish = async () => {
      await env.server.kill();
      await env.server.restart();
      await reconnected;
      for (const i of [3, 4, 5]) await publishTask(i);
      const end: JobEvent = { type: 'job', jobId: id, status: 'succeeded', at: new Date().toISOString() };
      await js.publish(names.eventSubject(id), encodeWire(end));
    };
    let restarting: Promise<void> | undefined;
    // Missed heartbeats would bring a stalled consumer back only after about 30 s.
    const stream = await readEventStream(`${base}/v1/jobs/${id}/events`, {
      timeoutMs: 15_000,
      until: (received) => {
        if (restarting === undefined && taskEvents(received).length === 3) restarting = restartAndFinish();
        return false;
      },
    });
    await restarting;
    assert.deepEqual(
      taskEvents(stream).map((t) => t.value),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      jobEvents(stream).map((e) => e.status),
      ['succeeded'],
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeWire, prepareJob, publishJob, storeJobSpec, TaskCatalogue, type JobEvent, type PlanChain, type PlanGroup } from '@weft/shared';
import { REPEAT_HEADER } from '../src/work-message.js';
import { startHarness, type Harness } from './harness.js';

const LIMITS = { maxNodes: 100, maxDepth: 8, maxChunks: 100 };

describe('work items sent again after the duplicate window', () => {
  let h: Harness;
  before(async () => {
    // Past one second, JetStream stores the same work item again as a new message.
    h = await startHarness({ duplicateWindowMs: 1000 });
    await h.startWorker({ name: 'repeater' });
  });
  after(async () => h.close());

  it('finds a repeated step done and goes on without running it, nor the steps after it that are done', async () => {
    // A chain of three quick steps, and a slow task beside it that keeps the job running.
    const chain = { chain: [{ task: 'add', args: [1, 2] }, { task: 'add', args: [10] }, { task: 'add', args: [100] }] };
    const spec = { group: [chain, { task: 'sleep', args: [3000, 'done'] }] };
    const job = await prepareJob(spec, TaskCatalogue.builtin(), LIMITS);
    await publishJob(h.infra, h.values, job);
    // The chain is through once three tasks are done.
    for (;;) {
      const entry = await h.infra.jobs.get(job.id);
      if (entry?.operation === 'PUT' && (entry.json<{ progress: { done: number } }>().progress.done >= 3)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 1200));
    // The second step's work item, as the first one sends it when it was redelivered and goes on.
    const second = ((job.plan.root as PlanGroup).members[0] as PlanChain).steps[1]?.id as string;
    const item = { v: 1, kind: 'task', jobId: job.id, node: second, input: { v: 3 } };
    await h.infra.writer.publish(h.infra.names.taskSubject('default'), encodeWire(item), {
      msgId: `${job.id}:task:${second}`,
      headers: { [REPEAT_HEADER]: '1' },
    });
    const done = await h.waitForJob(job.id, 30_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.value, [113, 'done']);
    const counts = await h.completions(job.id);
    assert.equal(counts.get('/group/0/chain/1'), 1, 'the repeated step ran again');
    assert.equal(counts.get('/group/0/chain/2'), 1, 'a step after it that was done ran again');
  });

  it('sends work on as a repeat when the item may have been delivered again while it ran', async () => {
    // Its own queue, and an ack wait of a second: the event loop stalls for longer.
    await h.startWorker({ name: 'stalled', queues: ['stall'], ackWaitMs: 1000 });
    const sent: { kind: string; repeat: boolean }[] = [];
    const sub = h.nc.subscribe(h.infra.names.taskSubject('stall'), {
      callback: (_err, msg) => {
        sent.push({ kind: (JSON.parse(msg.string()) as { kind: string }).kind, repeat: msg.headers?.get(REPEAT_HEADER) === '1' });
      },
    });
    try {
      const id = await h.submit({ chain: [{ task: 'sleep', args: [300, 'slept'] }, { task: 'echo' }], queue: 'stall' });
      while ((await h.record(id))?.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 5));
      // No in-progress acknowledgement goes out meanwhile: JetStream delivers the item again.
      const until = performance.now() + 1500;
      while (performance.now() < until);
      const job = await h.waitForJob(id);
      assert.equal(job.value, 'slept');
      const followUps = sent.filter((m) => m.kind === 'task');
      assert.ok(followUps.length > 0, 'no step was sent on');
      assert.deepEqual(followUps.filter((m) => !m.repeat), [], 'a step sent on as new work');
    } finally {
      sub.unsubscribe();
    }
  });

  it('publishes the end event again when a repeat finds the job finished without one', async () => {
    const job = await prepareJob({ task: 'add', args: [2, 3] }, TaskCatalogue.builtin(), LIMITS);
    // As a worker leaves it that stored the terminal record and died before the event.
    const now = new Date().toISOString();
    const completion = { node: '', task: 'add', attempts: 1, durationMs: 0.125, value: 5 };
    const record = { ...job.record, status: 'succeeded', result: { v: 5 }, startedAt: now, finishedAt: now, tasks: [completion] };
    await h.infra.jobs.create(job.id, encodeWire(record));
    const start = { v: 1, kind: 'start', jobId: job.id, record: job.record, spec: await storeJobSpec(h.values, job) };
    await h.infra.writer.publish(h.infra.names.taskSubject('default'), encodeWire(start), {
      msgId: `${job.id}:start`,
      headers: { [REPEAT_HEADER]: '1' },
    });
    const deadline = Date.now() + 20_000;
    let ends: JobEvent[] = [];
    while (ends.length === 0) {
      assert.ok(Date.now() < deadline, 'no end event');
      await new Promise((resolve) => setTimeout(resolve, 50));
      ends = (await h.events(job.id)).filter((e) => e.type === 'job');
    }
    assert.deepEqual(ends.map((e) => e.type === 'job' && e.status), ['succeeded']);
    // The task did not run again: its completion is the one the record keeps.
    assert.deepEqual(ends.map((e) => e.type === 'job' && e.tasks), [[completion]]);
    assert.equal((await h.completions(job.id)).get(''), 1);
  });
});

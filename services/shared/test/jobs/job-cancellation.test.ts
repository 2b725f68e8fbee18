import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeliverPolicy } from '@nats-io/jetstream';
import {
  cancelJob,
  createJobRecord,
  decodeWire,
  decodeWireBytes,
  encodeWire,
  JOB_CANCELLED,
  JobEndedError,
  JobEventSchema,
  JobNotFoundError,
  JobRecordSchema,
  parseMessage,
  prepareJob,
  TaskCatalogue,
  type Infrastructure,
  type JobEvent,
  type JobRecord,
  ValueStore,
} from '../../src/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';

const LIMITS = { maxNodes: 1000, maxDepth: 16, maxChunks: 1000 };

describe('cancelling a job', () => {
  let installation: TestInstallation;
  let infra: Infrastructure;

  before(async () => {
    installation = await startInstallation('cancel');
    infra = installation.infra;
  });
  after(async () => installation.close());

  /** A job with its `queued` record (and no worker to run it). */
  async function queuedJob(): Promise<string> {
    const job = await prepareJob({ task: 'sleep', args: [60_000] }, TaskCatalogue.builtin(), LIMITS);
    await createJobRecord(infra, job);
    return job.id;
  }

  async function recordOf(id: string): Promise<JobRecord> {
    const entry = await infra.jobs.get(id);
    assert.equal(entry?.operation, 'PUT');
    return parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record');
  }

  async function storedEvents(id: string): Promise<JobEvent[]> {
    const consumer = await infra.js.consumers.get(infra.names.eventsStream, {
      filter_subjects: infra.names.eventSubject(id),
      deliver_policy: DeliverPolicy.All,
    });
    const found: JobEvent[] = [];
    for await (const msg of await consumer.fetch({ max_messages: 100, expires: 1000 })) {
      found.push(parseMessage(JobEventSchema, decodeWire(msg.string()), 'event'));
      if (msg.info.pending === 0) break;
    }
    return found;
  }

  it('turns the record cancelled with the reason, and stores the end event once however often it is repeated', async () => {
    const id = await queuedJob();
    const first = await cancelJob(infra, id, { reason: 'not needed', now: new Date('2026-01-02T03:04:05.000Z') });
    assert.equal(first.cancelled, true);
    assert.equal(first.record.status, 'cancelled');
    assert.equal(first.record.finishedAt, '2026-01-02T03:04:05.000Z');
    assert.deepEqual(first.record.error, { code: JOB_CANCELLED, message: 'cancelled: not needed' });
    assert.deepEqual(await recordOf(id), first.record);

    const again = await cancelJob(infra, id, { reason: 'another reason' });
    assert.equal(again.cancelled, false);
    assert.deepEqual(again.record, first.record);

    const events = await storedEvents(id);
    assert.equal(events.length, 1);
    const [end] = events;
    assert.ok(end?.type === 'job');
    assert.equal(end.status, 'cancelled');
    assert.deepEqual(end.record, first.record);
  });

  it("removes the job's intermediate values, and no one else's", async () => {
    const id = await queuedJob();
    const other = await queuedJob();
    const values = new ValueStore(infra, 1024);
    const big = 'x'.repeat(5000);
    const huge = 'y'.repeat(2 * 1024 * 1024);
    const mine = [await values.store(big, `${id}.a`, { job: id }), await values.store(huge, `${id}.b`, { job: id })];
    const kept = [await values.store(big, `${other}.a`, { job: other }), await values.store(big, `${id}.result`)];
    assert.ok('seq' in (mine[0] ?? {}) && 'ref' in (mine[1] ?? {}), JSON.stringify(mine));
    await cancelJob(infra, id);
    // Removed in the background, after the answer.
    for (let tries = 0; tries < 50 && (await values.load(mine[0] ?? { v: 0 }).then(() => true, () => false)); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const stored of mine) await assert.rejects(values.load(stored), { code: 'VALUE_NOT_FOUND' });
    for (const stored of kept) assert.equal(await values.load(stored), big);
  });

  it('tells the waiting requests and the workers on core NATS', async () => {
    const id = await queuedJob();
    const heard = (subject: string) =>
      new Promise<JobEvent>((resolve) => {
        const sub = infra.nc.subscribe(subject, {
          max: 1,
          callback: (_err, msg) => resolve(parseMessage(JobEventSchema, decodeWireBytes(msg.data), 'event')),
        });
        void sub;
      });
    const ended = heard(infra.names.jobEndSubject(id));
    const stopped = heard(infra.names.jobStopSubject(id));
    await infra.nc.flush();
    await cancelJob(infra, id);
    for (const event of await Promise.all([ended, stopped])) {
      assert.ok(event.type === 'job');
      assert.equal(event.jobId, id);
      assert.equal(event.status, 'cancelled');
    }
  });

  it('refuses a job that succeeded or failed first, and leaves it as it is', async () => {
    for (const status of ['succeeded', 'failed'] as const) {
      const id = await queuedJob();
      const entry = await infra.jobs.get(id);
      const ended = { ...(await recordOf(id)), status, finishedAt: new Date().toISOString() };
      await infra.jobs.update(id, encodeWire(ended), entry?.revision ?? 0);
      await assert.rejects(cancelJob(infra, id), (err: unknown) => err instanceof JobEndedError && err.jobStatus === status);
      assert.deepEqual(await recordOf(id), ended);
      assert.deepEqual(await storedEvents(id), []);
    }
  });

  it('does not find jobs without a record, nor ids of another shape', async () => {
    const job = await prepareJob({ task: 'add', args: [1, 2] }, TaskCatalogue.builtin(), LIMITS);
    for (const id of [job.id, 'no-such-job', '../x', '']) {
      await assert.rejects(cancelJob(infra, id), JobNotFoundError);
    }
  });

  it('cancels once when cancels race', async () => {
    const id = await queuedJob();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => cancelJob(infra, id)));
    assert.equal(outcomes.filter((o) => o.cancelled).length, 1);
    const [record] = outcomes.map((o) => o.record);
    for (const outcome of outcomes) assert.deepEqual(outcome.record, record);
    assert.equal((await storedEvents(id)).length, 1);
  });
});

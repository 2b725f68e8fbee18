import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, decodeWire, encodeWire, JetStreamWriter, newJobId, parseWriteAck, type JobRecord } from '@weft/shared';
import { collectMessages } from '@weft/shared/testing';
import { JobRecords } from '../src/engine/job-records.js';
import { ProgressReporter } from '../src/engine/progress-reporter.js';
import { startHarness, type Harness } from './harness.js';

function queuedRecord(id: string): JobRecord {
  return { id, status: 'queued', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } };
}

describe('job records', () => {
  let h: Harness;
  let writer: JetStreamWriter;
  before(async () => {
    h = await startHarness();
    writer = await JetStreamWriter.open(h.nc, h.infra.names);
  });
  after(async () => {
    writer.close();
    await h.close();
  });

  it('announces terminal records only', async () => {
    const records = new JobRecords(h.infra.jobs, writer);
    const id = newJobId();
    const acks = await collectMessages(h.nc, h.infra.names.recordAcksOf(id));
    const running = await records.update(id, (r) => ({ ...r, status: 'running' }), queuedRecord(id));
    assert.equal(running?.status, 'running');
    const done = await records.update(id, (r) => ({ ...r, status: 'succeeded', finishedAt: new Date().toISOString() }));
    assert.equal(done?.status, 'succeeded');
    const ack = parseWriteAck(await acks.next());
    acks.close();
    assert.ok(ack.ok);
    assert.equal(acks.messages.length, 1, 'only the terminal write is acknowledged to watchers');
    const entry = await h.infra.jobs.get(id);
    assert.equal(entry?.revision, ack.seq);
    assert.equal((decodeWire(entry.string()) as JobRecord).status, 'succeeded');
  });

  it('writes a terminal record in place of a deleted one', async () => {
    const records = new JobRecords(h.infra.jobs, writer);
    const id = newJobId();
    await h.infra.jobs.create(id, encodeWire(queuedRecord(id)));
    await h.infra.jobs.delete(id);
    const done = await records.update(id, (r) => ({ ...r, status: 'failed' }), queuedRecord(id));
    assert.equal(done?.status, 'failed');
    const entry = await h.infra.jobs.get(id);
    assert.equal(entry?.operation, 'PUT');
    assert.equal((decodeWire(entry.string()) as JobRecord).status, 'failed');
  });

  it('keeps the progress of a job whose record comes after its first tasks', async () => {
    const records = new JobRecords(h.infra.jobs, writer);
    const progress = new ProgressReporter(records, createLogger('test', 'silent'));
    const id = newJobId();
    progress.add(id, 3);
    // Flushed at least once without a record, as when a waiting submission has not written it yet.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await h.infra.jobs.create(id, encodeWire({ ...queuedRecord(id), progress: { done: 0, total: 10 } }));
    progress.add(id, 2);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await progress.close();
    const entry = await h.infra.jobs.get(id);
    const record = decodeWire(entry?.string() ?? '') as JobRecord;
    assert.deepEqual([record.status, record.progress], ['running', { done: 5, total: 10 }]);
  });
});

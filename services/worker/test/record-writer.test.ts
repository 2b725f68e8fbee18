import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Msg } from '@nats-io/transport-node';
import { decodeWire, encodeWire, isWrongLastSequence, newJobId, parseWriteAck, type JobRecord } from '@weft/shared';
import { JobRecords } from '../src/engine/job-records.js';
import { RecordWriter } from '../src/engine/record-writer.js';
import { startHarness, type Harness } from './harness.js';

function queuedRecord(id: string): JobRecord {
  return { id, status: 'queued', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } };
}

/** Collects what arrives on `subject` (e.g. a job's record acknowledgements). */
async function listen(h: Harness, subject: string): Promise<{ messages: Msg[]; next(): Promise<Msg>; close(): void }> {
  const messages: Msg[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  const subscription = h.nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      messages.push(msg);
      wake?.();
    },
  });
  await h.nc.flush();
  return {
    messages,
    /** The first message not yet read, once it is there. */
    async next() {
      while (messages.length === read) await new Promise<void>((resolve) => (wake = resolve));
      return messages[read++] as Msg;
    },
    close: () => subscription.unsubscribe(),
  };
}

describe('record writer', () => {
  let h: Harness;
  let writer: RecordWriter;
  before(async () => {
    h = await startHarness();
    writer = await RecordWriter.open(h.nc, h.infra.names);
  });
  after(async () => {
    writer.close();
    await h.close();
  });

  it('stores a record and acknowledges it to the watchers of the job as well', async () => {
    const id = newJobId();
    const acks = await listen(h, h.infra.names.recordAcksOf(id));
    const record = { ...queuedRecord(id), status: 'succeeded' as const };
    const [revision, ack] = await Promise.all([writer.write(id, encodeWire(record), 0), acks.next()]);
    acks.close();
    const seen = parseWriteAck(ack);
    assert.ok(seen.ok);
    assert.equal(seen.seq, revision);
    const entry = await h.infra.jobs.get(id);
    assert.equal(entry?.revision, revision);
    assert.deepEqual(decodeWire(entry.string()), record);
  });

  it('refuses a write over a record that changed, and says so to the watchers', async () => {
    const id = newJobId();
    const first = await writer.write(id, encodeWire(queuedRecord(id)), 0);
    const acks = await listen(h, h.infra.names.recordAcksOf(id));
    const stale = writer.write(id, encodeWire({ ...queuedRecord(id), status: 'failed' }), 0);
    await assert.rejects(stale, (err: unknown) => isWrongLastSequence(err));
    assert.equal(parseWriteAck(await acks.next()).ok, false);
    acks.close();
    assert.equal((await h.infra.jobs.get(id))?.revision, first);
    // With the current revision it goes through.
    assert.ok((await writer.write(id, encodeWire({ ...queuedRecord(id), status: 'failed' }), first)) > first);
  });

  it('announces terminal records only', async () => {
    const records = new JobRecords(h.infra.jobs, writer);
    const id = newJobId();
    const acks = await listen(h, h.infra.names.recordAcksOf(id));
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

  it('fails writes still waiting when it closes', async () => {
    const lone = await RecordWriter.open(h.nc, h.infra.names);
    const id = newJobId();
    // A subject no stream takes would be answered "no responders"; close before any answer.
    const pending = lone.write(id, encodeWire(queuedRecord(id)), 0);
    lone.close();
    await assert.rejects(pending, /closed/);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeWire,
  encodeWire,
  isWrongLastSequence,
  JetStreamWriter,
  newJobId,
  parseWriteAck,
  WriteTimeoutError,
  type Infrastructure,
} from '../../src/index.js';
import { collectMessages } from '../../src/testing/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';

describe('JetStream writer', () => {
  let installation: TestInstallation;
  let nc: NatsConnection;
  let infra: Infrastructure;
  let writer: JetStreamWriter;
  before(async () => {
    installation = await startInstallation('writer');
    ({ nc, infra } = installation);
    writer = await JetStreamWriter.open(nc, infra.names);
  });
  after(async () => {
    writer.close();
    await installation.close();
  });

  it('publishes and deduplicates by message id', async () => {
    const subject = infra.names.eventSubject(newJobId());
    const first = await writer.publish(subject, 'one', { msgId: 'same' });
    const again = await writer.publish(subject, 'two', { msgId: 'same' });
    assert.equal(first.stream, infra.names.eventsStream);
    assert.equal(again.seq, first.seq, 'a repeat is acknowledged with the stored sequence');
    const stored = await infra.jsm.streams.getMessage(infra.names.eventsStream, { seq: first.seq });
    assert.equal(stored?.string(), 'one');
  });

  it('writes KV values with compare-and-set, as the KV client reads them', async () => {
    const bucket = infra.names.stateBucket;
    const created = await writer.writeKv(bucket, 'k1', 'a', 0);
    assert.equal((await infra.state.get('k1'))?.revision, created);
    await assert.rejects(writer.writeKv(bucket, 'k1', 'b', 0), (err: unknown) => isWrongLastSequence(err));
    const updated = await writer.writeKv(bucket, 'k1', 'c', created);
    const entry = await infra.state.get('k1');
    assert.equal(entry?.revision, updated);
    assert.equal(entry?.string(), 'c');
  });

  it('sends the acknowledgement of a job record write to the job watchers too', async () => {
    const id = newJobId();
    const acks = await collectMessages(nc, infra.names.recordAcksOf(id));
    const record = { id, status: 'succeeded', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 1, total: 1 } };
    const [revision, ack] = await Promise.all([writer.writeJobRecord(id, encodeWire(record), 0), acks.next()]);
    const seen = parseWriteAck(ack);
    assert.ok(seen.ok);
    assert.equal(seen.seq, revision);
    const entry = await infra.jobs.get(id);
    assert.equal(entry?.revision, revision);
    assert.deepEqual(decodeWire(entry?.string() ?? ''), record);
    // A refused write is refused for the watchers as well.
    await assert.rejects(writer.writeJobRecord(id, encodeWire(record), 0), (err: unknown) => isWrongLastSequence(err));
    assert.equal(parseWriteAck(await acks.next()).ok, false);
    acks.close();
  });

  it('times out without an acknowledgement, and fails writes still waiting when closed', async () => {
    const quick = await JetStreamWriter.open(nc, infra.names, { ackTimeoutMs: 200 });
    // A subscriber in place of JetStream: it takes the write and never answers.
    const silent = nc.subscribe('writer-test.silent', { callback: () => undefined });
    await nc.flush();
    await assert.rejects(quick.publish('writer-test.silent', 'x'), (err: unknown) => err instanceof WriteTimeoutError);
    const waiting = quick.publish('writer-test.silent', 'y');
    quick.close();
    await assert.rejects(waiting, /closed/);
    await assert.rejects(quick.publish('writer-test.silent', 'z'), /closed/);
    silent.unsubscribe();
  });
});

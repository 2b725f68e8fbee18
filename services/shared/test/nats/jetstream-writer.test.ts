import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeWire,
  encodeWire,
  isNatsUnavailable,
  isWrongLastSequence,
  JetStreamWriter,
  newJobId,
  parseWriteAck,
  WriteTimeoutError,
  type Infrastructure,
} from '../../src/index.js';
import { collectMessages } from '../../src/testing/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';
import { outcomeWithin } from './outcome-within.js';
import { pauseServer } from './server-pause.js';

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

describe('JetStream writer, when the connection is interrupted', () => {
  /** Long enough that a write failed by its timeout cannot be taken for one failed by the interruption. */
  const ACK_TIMEOUT_MS = 30_000;
  let installation: TestInstallation;
  let writer: JetStreamWriter;
  before(async () => {
    installation = await startInstallation('writer-interrupted');
    writer = await JetStreamWriter.open(installation.nc, installation.infra.names, { ackTimeoutMs: ACK_TIMEOUT_MS });
  });
  after(async () => {
    writer.close();
    await installation.close();
  });

  /** How `write` ended, or `waiting` if it had not ended when half the acknowledgement timeout had passed. */
  function outcome(write: Promise<unknown>): Promise<unknown> {
    return outcomeWithin(write, ACK_TIMEOUT_MS / 2, 'stored');
  }

  it('fails writes waiting when the connection is lost or comes back, as timed out, and they can be tried again', async () => {
    const { server, infra } = installation;
    const subject = infra.names.eventSubject(newJobId());
    // A paused server answers nothing; then it dies with the write unread.
    const resume = await pauseServer(server);
    let sent: Promise<unknown>;
    try {
      sent = outcome(writer.publish(subject, 'one', { msgId: 'interrupted' }));
      await sleep(100);
      await server.kill();
    } finally {
      resume();
    }
    const lost = await sent;
    // Published while disconnected, this one is dropped when the client dials again.
    const unsent = outcome(writer.publish(subject, 'one', { msgId: 'interrupted' }));
    await server.restart();
    const dropped = await unsent;

    assert.ok(lost instanceof WriteTimeoutError, `the write in flight: ${String(lost)}`);
    assert.equal(lost.connectionLost, true);
    assert.ok(isNatsUnavailable(lost));
    assert.ok(dropped instanceof WriteTimeoutError, `the write made while disconnected: ${String(dropped)}`);
    assert.equal(dropped.connectionLost, true);
    const stored = await writer.publish(subject, 'one', { msgId: 'interrupted' });
    const again = await writer.publish(subject, 'one', { msgId: 'interrupted' });
    assert.equal(again.seq, stored.seq);
  });
});

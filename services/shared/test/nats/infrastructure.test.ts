import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, decodeWireBytes, encodeWireBytes, provisionInfrastructure, resolveWorkerConfig, stringifyJson, ValueStore, WireBytes } from '../../src/index.js';
import { openObjectChunks, readObjectChunks } from '../../src/nats/object-chunks.js';
import { startNatsServer, type RunningNatsServer } from '../../src/testing/index.js';

describe('provisionInfrastructure', () => {
  let server: RunningNatsServer;
  let nc: NatsConnection;
  const config = () => resolveWorkerConfig({ natsUrl: server.url, prefix: 'infra', retentionMs: 3_600_000 });

  before(async () => {
    server = await startNatsServer();
    nc = await connectNats(config(), 'infra-test');
  });
  after(async () => {
    await nc.drain();
    await server.stop();
  });

  it('is idempotent and keeps every store for the retention period', async () => {
    const first = await provisionInfrastructure(nc, config());
    const again = await provisionInfrastructure(nc, config());
    assert.equal(again.names.tasksStream, first.names.tasksStream);
    const hourNanos = 3_600_000 * 1_000_000;
    for (const stream of ['KV_infra-jobs', 'KV_infra-results', 'OBJ_infra-blobs', 'infra-events', 'infra-values', 'infra-job-index']) {
      const info = await first.jsm.streams.info(stream);
      assert.equal(info.config.max_age, hourNanos, `${stream} max_age`);
    }
    const tasks = await first.jsm.streams.info('infra-tasks');
    assert.equal(tasks.config.retention, 'workqueue');
    assert.equal(tasks.config.max_age, 0, 'work items never expire');
  });

  it('applies a changed retention to the streams, buckets and object store made before', async () => {
    const retained = (retentionMs: number) => resolveWorkerConfig({ natsUrl: server.url, prefix: 'infra-retain', retentionMs });
    const { jsm } = await provisionInfrastructure(nc, retained(3_600_000));
    const streams = ['KV_infra-retain-jobs', 'KV_infra-retain-specs', 'KV_infra-retain-results', 'KV_infra-retain-state', 'OBJ_infra-retain-blobs', 'infra-retain-events', 'infra-retain-values', 'infra-retain-job-values', 'infra-retain-job-index'];
    // Shorter than the buckets' two-minute duplicate window: it shrinks with them.
    for (const retentionMs of [60_000, 7_200_000]) {
      await provisionInfrastructure(nc, retained(retentionMs));
      for (const stream of streams) {
        const { config } = await jsm.streams.info(stream);
        assert.equal(config.max_age, retentionMs * 1_000_000, `${stream} max_age`);
        assert.ok(config.duplicate_window <= config.max_age, `${stream} duplicate window within max_age`);
      }
    }
    const heartbeats = await jsm.streams.info('KV_infra-retain-workers');
    assert.equal(heartbeats.config.max_age, 30_000 * 1_000_000, 'heartbeats keep their own TTL');
  });

  it('spills large values to a message of the values stream and reads them back', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    const small = await values.store({ n: 1 }, 'small');
    assert.deepEqual(small, { v: { n: 1 } });
    const big = Array.from({ length: 5000 }, (_, i) => BigInt(i) * 10n ** 20n);
    const stored = await values.store(big, 'big');
    assert.ok('seq' in stored, JSON.stringify(stored));
    assert.deepEqual(await values.load(stored), big);
    await values.discard(stored);
    await assert.rejects(values.load(stored), { code: 'VALUE_NOT_FOUND' });
  });

  it('stores values given in wire bytes and reads them back as bytes of their own', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    const small = { words: ['a', 'b'], big: 2n ** 70n };
    assert.deepEqual(await values.store(new WireBytes(encodeWireBytes(small)), 'small'), { v: small });
    const big = Array.from({ length: 5000 }, (_, i) => `word-${i}`);
    const stored = await values.store(new WireBytes(encodeWireBytes(big)), 'big');
    assert.ok('seq' in stored, JSON.stringify(stored));
    // Read twice: the second payload may share a read buffer with the first.
    for (const bytes of [await values.loadWire(stored), await values.loadWire(stored)]) {
      assert.deepEqual(decodeWireBytes(bytes), big);
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.byteLength, bytes.buffer.byteLength, 'the buffer holds just the value');
    }
    assert.deepEqual(decodeWireBytes(await values.loadWire({ v: small })), small);
  });

  it('counts the limit for inline values in UTF-8 bytes', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    // 1,002 bytes of JSON: inline. 402 characters but 1,202 bytes: spilled.
    assert.deepEqual(await values.store('a'.repeat(1000), 'ascii'), { v: 'a'.repeat(1000) });
    const euros = '€'.repeat(400);
    const stored = await values.store(euros, 'euros');
    assert.deepEqual(stored, { seq: (stored as { seq: number }).seq, bytes: 1202 });
    assert.equal(await values.load(stored), euros);
  });

  it('spills values larger than a message to the object store', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    const huge = 'x'.repeat(2 * 1024 * 1024);
    const stored = await values.store(huge, 'huge');
    assert.ok('ref' in stored, JSON.stringify(stored));
    assert.equal(await values.load(stored), huge);
    await values.discard(stored);
    await assert.rejects(values.load(stored), { code: 'VALUE_NOT_FOUND' });
  });

  it('gives a plain JSON value of the object store as its text, chunk by chunk, and checks what it read', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    const words = Array.from({ length: 200_000 }, (_, i) => `w${i}`);
    const read = async (chunks: AsyncIterable<Uint8Array>) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      return parts;
    };

    const plain = await values.store(words, 'plain');
    assert.ok('ref' in plain, JSON.stringify(plain));
    const sendable = await values.loadSendable(plain);
    assert.ok('jsonChunks' in sendable);
    const parts = await read(sendable.jsonChunks);
    assert.ok(parts.length > 1, `${parts.length} chunks`);
    assert.equal(Buffer.concat(parts).toString(), JSON.stringify(words));

    // Big integers travel in envelopes: such a value is rewritten as it streams by.
    const withBigint = [...words, 2n ** 64n, { $bigint: 'a key like an envelope' }];
    const enveloped = await values.store(withBigint, 'enveloped');
    const rewritten = await values.loadSendable(enveloped);
    assert.ok('jsonChunks' in rewritten);
    assert.equal(Buffer.concat(await read(rewritten.jsonChunks)).toString(), stringifyJson(withBigint));
    // Values of the values stream are small enough to decode.
    assert.deepEqual(await values.loadSendable(await values.store('x'.repeat(5000), 'message')), { value: 'x'.repeat(5000) });

    // A chunk gone, and chunks that do not match the digest, fail the read.
    const info = await infra.blobs.info('plain');
    assert.ok(info);
    await assert.rejects(read(readObjectChunks(infra.jsm, { ...info, digest: `SHA-256=${Buffer.alloc(32).toString('base64url')}=` })), /read corrupt/);
    const chunkSubject = `$O.${info.bucket}.C.${info.nuid}`;
    const first = await infra.jsm.direct.getMessage(`OBJ_${info.bucket}`, { seq: 1, next_by_subj: chunkSubject });
    assert.ok(first);
    await infra.jsm.streams.deleteMessage(`OBJ_${info.bucket}`, first.seq);
    await assert.rejects(read(readObjectChunks(infra.jsm, info)), { code: 'VALUE_NOT_FOUND' });
    // Found missing before any chunk is read.
    await assert.rejects(values.loadSendable(plain), { code: 'VALUE_NOT_FOUND', message: /has \d+ of its \d+ chunks/ });
    await values.discard(plain);
    await assert.rejects(values.loadSendable(plain), { code: 'VALUE_NOT_FOUND' });
  });

  it('reads an object whose chunks lie between other messages, in order', async () => {
    const infra = await provisionInfrastructure(nc, config());
    const bucket = infra.names.blobsStore;
    const bytes = new TextEncoder().encode(JSON.stringify(Array.from({ length: 300_000 }, (_, i) => `w${i}`)));
    const piece = 100 * 1024;
    let at = 0;
    const source = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= bytes.length) return controller.close();
        // Another object's chunk lands between this one's.
        await infra.js.publish(`$O.${bucket}.C.interloper`, new Uint8Array(10));
        controller.enqueue(bytes.subarray(at, (at += piece)));
      },
    });
    const info = await infra.blobs.put({ name: 'interleaved' }, source);
    assert.ok(info.chunks > 10, `${info.chunks} chunks`);
    const seqs: number[] = [];
    for (let seq = 1; seqs.length < info.chunks; ) {
      const msg = await infra.jsm.direct.getMessage(`OBJ_${bucket}`, { seq, next_by_subj: `$O.${bucket}.C.${info.nuid}` });
      assert.ok(msg);
      seqs.push(msg.seq);
      seq = msg.seq + 1;
    }
    assert.ok(seqs.some((seq, i) => i > 0 && seq !== (seqs[i - 1] as number) + 1), 'the chunks are not stored one after another');
    const parts: Uint8Array[] = [];
    for await (const chunk of await openObjectChunks(infra.jsm, info)) parts.push(chunk);
    assert.ok(Buffer.concat(parts).equals(bytes));
  });

  it('finds a value of the object store whose chunks are all gone missing, instead of waiting for them', { timeout: 20_000 }, async () => {
    const infra = await provisionInfrastructure(nc, config());
    const values = new ValueStore(infra, 1024);
    // With big integers: a value loaded and decoded whole.
    const value = [...Array.from({ length: 200_000 }, (_, i) => `w${i}`), 2n ** 64n];
    const stored = await values.store(value, 'expired');
    assert.ok('ref' in stored, JSON.stringify(stored));
    assert.deepEqual(await values.load(stored), value);
    // As when the chunks expire before the metadata written after them.
    const info = await infra.blobs.info('expired');
    assert.ok(info);
    await infra.jsm.streams.purge(`OBJ_${info.bucket}`, { filter: `$O.${info.bucket}.C.${info.nuid}` });
    await assert.rejects(values.load(stored), { code: 'VALUE_NOT_FOUND', message: /has 0 of its \d+ chunks/ });
    await assert.rejects(values.loadSendable(stored), { code: 'VALUE_NOT_FOUND' });
  });
});

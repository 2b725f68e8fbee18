import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers } from '@nats-io/transport-node';
import { isWrongLastSequence, parseWriteAck } from '../../src/index.js';

const reply = (body: unknown, status?: number) => ({
  data: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
  headers: status === undefined ? undefined : headers(status, 'status'),
});

describe('parseWriteAck', () => {
  it('reads where JetStream stored a write', () => {
    assert.deepEqual(parseWriteAck(reply({ stream: 'S', seq: 7 })), { ok: true, stream: 'S', seq: 7 });
    assert.deepEqual(parseWriteAck(reply({ stream: 'S', seq: 7, duplicate: true })), { ok: true, stream: 'S', seq: 7 });
  });

  it('turns a refusal into the JetStream error it names', () => {
    const ack = parseWriteAck(reply({ error: { code: 400, err_code: 10071, description: 'wrong last sequence: 3' } }));
    assert.equal(ack.ok, false);
    assert.ok(!ack.ok && isWrongLastSequence(ack.error));
    assert.match(!ack.ok ? ack.error.message : '', /wrong last sequence/);
  });

  it('refuses status messages, empty and malformed answers', () => {
    for (const answer of [
      { data: new Uint8Array(0), headers: headers(503, 'No Responders') },
      reply(''),
      reply('not json'),
      reply({ stream: 'S' }),
      reply({ stream: '', seq: 1 }),
      reply({ stream: 'S', seq: 0 }),
      reply({ stream: 'S', seq: '7' }),
      reply({ error: 'nope' }),
      reply([1, 2]),
    ]) {
      const ack = parseWriteAck(answer);
      assert.equal(ack.ok, false, JSON.stringify(new TextDecoder().decode(answer.data)));
      assert.ok(!ack.ok && !isWrongLastSequence(ack.error));
    }
  });
});

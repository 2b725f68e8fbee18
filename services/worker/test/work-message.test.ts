import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { WorkMessage } from '../src/work-message.js';

/** A message as a consumer delivers it for the first time, on a connection that records what is sent. */
function delivered(): { message: WorkMessage; sent: string[] } {
  const sent: string[] = [];
  const nc = { publish: (_subject: string, data: Uint8Array) => sent.push(new TextDecoder().decode(data)) } as unknown as NatsConnection;
  const msg = { subject: 'weft.tasks.default', reply: `$JS.ACK.S.C.1.7.7.${Date.now() * 1e6}.0`, headers: undefined, string: () => '{}' } as unknown as Msg;
  return { message: new WorkMessage(nc, msg), sent };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkMessage', () => {
  it('is no repeat on its first delivery, until its acknowledgement timer may have run out', async () => {
    const { message, sent } = delivered();
    assert.equal(message.repeat, false);
    assert.equal(message.mayHaveLapsed(1000), false);
    message.working(1000);
    assert.deepEqual(sent, ['+WPI']);
    await pause(30);
    // Kept alive more often than the wait: still fine.
    message.working(1000);
    assert.equal(message.mayHaveLapsed(1000), false);
    // Not restarted for longer than the wait (the event loop stalled, say): it may have run out, for good.
    await pause(30);
    assert.equal(message.mayHaveLapsed(20), true);
    message.working(1000);
    assert.equal(message.mayHaveLapsed(1000), true);
  });

  it('may have lapsed once marked so (its connection dropped)', () => {
    const { message } = delivered();
    message.markLapsed();
    assert.equal(message.mayHaveLapsed(60_000), true);
  });
});

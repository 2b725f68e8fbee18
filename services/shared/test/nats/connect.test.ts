import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '@nats-io/transport-node';
import { pino } from 'pino';
import { connectNats, resolveWorkerConfig } from '../../src/index.js';
import { freePort, startNatsServer } from '../../src/testing/index.js';

/** A logger whose lines are kept, parsed. */
function recordingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines };
}

describe('connectNats', () => {
  it('waits for a server that is not up yet, saying so', async () => {
    const port = await freePort();
    const { log, lines } = recordingLogger();
    const connecting = connectNats(resolveWorkerConfig({ natsUrl: `nats://127.0.0.1:${port}`, prefix: 'connect' }), 'connect-test', { log });
    await sleep(1_200);
    const server = await startNatsServer({ port });
    try {
      const nc = await connecting;
      await nc.flush();
      await nc.close();
      const waits = lines.filter((line) => line['msg'] === 'NATS cannot be reached; waiting for it');
      assert.ok(waits.length >= 2, `${waits.length} waits logged`);
      assert.deepEqual(
        waits.slice(0, 2).map((line) => line['delayMs']),
        [500, 1000],
      );
    } finally {
      await server.stop();
    }
  });

  it('rejects refused credentials at once', async () => {
    const server = await startNatsServer({ args: ['--user', 'weft', '--pass', 'right'] });
    try {
      const config = resolveWorkerConfig({ natsUrl: server.url, prefix: 'connect', natsUser: 'weft', natsPassword: 'wrong' });
      await assert.rejects(connectNats(config, 'connect-test'), errors.AuthorizationError);
    } finally {
      await server.stop();
    }
  });

  it('stops waiting when its signal aborts', async () => {
    const config = resolveWorkerConfig({ natsUrl: `nats://127.0.0.1:${await freePort()}`, prefix: 'connect' });
    await assert.rejects(connectNats(config, 'connect-test', { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, decodeWire, resolveWorkerConfig, WORKER_HEARTBEAT_TTL_MS, WorkerHeartbeatSchema } from '@weft/shared';
import { startHarness, type Harness } from './harness.js';

describe('a worker heartbeat', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  it('is kept under a key made from any name, which it shows as given', async () => {
    const name = 'GPU box #1 (näive) 10.0.0.7';
    await h.startWorker({ name, queues: ['named'] });
    const keys = [];
    for await (const key of await h.infra.workers.keys()) keys.push(key);
    assert.equal(keys.length, 1, keys.join());
    assert.match(keys[0] ?? '', /^GPU_box__1__n_ive__10_0_0_7-[0-9a-f]{8}$/);
    const entry = await h.infra.workers.get(keys[0] ?? '');
    const heartbeat = WorkerHeartbeatSchema.parse(decodeWire(entry?.string() ?? ''));
    assert.equal(heartbeat.name, name);
    assert.equal(heartbeat.id, keys[0]);
    const id = await h.submit({ task: 'add', args: [4, 6], queue: 'named' });
    assert.equal((await h.waitForJob(id)).value, 10);
  });

  it('comes at least three times per TTL of the entries', () => {
    assert.equal(resolveWorkerConfig({ heartbeatMs: WORKER_HEARTBEAT_TTL_MS / 3 }).heartbeatMs, 10_000);
    assert.throws(
      () => resolveWorkerConfig({ heartbeatMs: WORKER_HEARTBEAT_TTL_MS / 3 + 1 }),
      (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.pointer === '/heartbeatMs' && /10000/.test(i.message)),
    );
  });
});

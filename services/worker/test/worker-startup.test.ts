import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePorts, startNatsServer, until } from '@weft/shared/testing';
import { spawnWorker, waitForLog } from './worker-process.js';

/** The status and body of a GET, or undefined while nothing listens. */
async function probe(url: string): Promise<{ status: number; body: { state?: string } } | undefined> {
  try {
    const response = await fetch(url);
    return { status: response.status, body: (await response.json()) as { state?: string } };
  } catch {
    return undefined;
  }
}

describe('a worker process started before NATS', () => {
  it('is alive and not ready while it waits, then starts when the server comes', async () => {
    const [natsPort, healthPort] = (await freePorts(2)) as [number, number];
    const worker = spawnWorker({
      WEFT_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      WEFT_PREFIX: `startup${process.pid}`,
      WEFT_THREADS: '1',
      WEFT_HEALTH_PORT: String(healthPort),
    });
    let server: Awaited<ReturnType<typeof startNatsServer>> | undefined;
    try {
      await waitForLog(worker, 'NATS cannot be reached; waiting for it');
      let live: Awaited<ReturnType<typeof probe>>;
      await until('the health endpoint', async () => (live = await probe(`http://127.0.0.1:${healthPort}/healthz`)) !== undefined);
      assert.equal(live?.status, 200);
      const ready = await probe(`http://127.0.0.1:${healthPort}/readyz`);
      assert.deepEqual(ready, { status: 503, body: { status: 'unavailable', state: 'starting' } });

      server = await startNatsServer({ port: natsPort });
      await waitForLog(worker, 'worker started');
      await until('readiness', async () => (await probe(`http://127.0.0.1:${healthPort}/readyz`))?.status === 200);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
    } finally {
      worker.child.kill('SIGKILL');
      await server?.stop();
    }
  });
});

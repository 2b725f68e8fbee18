import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('closing the API', () => {
  let env: TestEnv;
  before(async () => {
    // No worker: a job submitted with `wait` waits until the API closes.
    env = await startTestEnv({ worker: false });
    await env.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => env.close());

  it('ends a kept-alive connection whose wait it cuts short, so closing does not wait for it', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const { port } = env.app.server.address() as AddressInfo;
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      const body = JSON.stringify({ task: 'add', args: [1, 2] });
      const request = http.request(
        { host: '127.0.0.1', port, path: '/v1/jobs?wait=30', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    // The request is waiting for the job once its record exists.
    while ((await env.app.inject({ method: 'GET', url: '/v1/jobs' })).json<{ jobs: unknown[] }>().jobs.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const closed = env.app.close();
    const res = await response;
    assert.equal(res.headers.connection, 'close');
    await closed;
    agent.destroy();
  });
});

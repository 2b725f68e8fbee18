import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, TimeoutError } from '@nats-io/transport-node';
import { isNatsUnavailable, newJobId } from '../../src/index.js';
import { failInterruptedRequests } from '../../src/nats/interrupted-requests.js';
import { startInstallation, type TestInstallation } from '../installation.js';
import { outcomeWithin } from './outcome-within.js';
import { pauseServer } from './server-pause.js';

/** Long enough that a request failed by its timeout cannot be taken for one failed by the interruption. */
const REQUEST_TIMEOUT_MS = 30_000;

/** How `request` ended, or `waiting` if it had not ended when half the request timeout had passed. */
function outcome(request: Promise<unknown>): Promise<unknown> {
  return outcomeWithin(request, REQUEST_TIMEOUT_MS / 2, 'answered');
}

/** Whether `err` is the timeout of a request failed because the connection was interrupted. */
function interrupted(err: unknown): boolean {
  return err instanceof TimeoutError && err.cause instanceof ConnectionError && isNatsUnavailable(err);
}

describe('requests when the connection is interrupted', () => {
  let installation: TestInstallation;
  before(async () => {
    installation = await startInstallation('interrupted-requests');
  });
  after(async () => {
    await installation.close();
  });

  it('fail when the connection is lost or comes back, as timed out, instead of waiting out their timeout', async () => {
    const { nc, server } = installation;
    const requests = failInterruptedRequests(nc);
    // A responder that never answers.
    const silent = nc.subscribe('interrupted-requests.silent', { callback: () => undefined });
    await nc.flush();
    const asked = outcome(requests.request('interrupted-requests.silent', 'x', { timeout: REQUEST_TIMEOUT_MS }));
    await server.kill();
    const lost = await asked;
    // Made while disconnected, this one is dropped when the client dials again.
    const unsent = outcome(requests.request('interrupted-requests.silent', 'x', { timeout: REQUEST_TIMEOUT_MS }));
    await server.restart();
    const dropped = await unsent;

    assert.ok(interrupted(lost), `the request in flight: ${String(lost)}`);
    assert.ok(interrupted(dropped), `the request made while disconnected: ${String(dropped)}`);
    // Answered requests, and everything else of the connection, are as without the view.
    const echo = nc.subscribe('interrupted-requests.echo', {
      callback: (_err, msg) => {
        msg.respond(msg.data);
      },
    });
    await requests.flush();
    assert.equal((await requests.request('interrupted-requests.echo', 'hello', { timeout: REQUEST_TIMEOUT_MS })).string(), 'hello');
    assert.equal(requests.isClosed(), false);
    assert.equal(requests.info?.server_id, nc.info?.server_id);
    echo.unsubscribe();
    silent.unsubscribe();
  });

  // Last in this file: it restarts the server once more.
  it('fail the KV gets of the infrastructure waiting when the connection is lost or comes back', async () => {
    const { server, infra } = installation;
    const id = newJobId();
    await infra.jobs.put(id, 'record');
    // A paused server answers nothing; then it dies with the request unread.
    const resume = await pauseServer(server);
    let reading: Promise<unknown>;
    try {
      reading = outcome(infra.jobs.get(id));
      await sleep(100);
      await server.kill();
    } finally {
      resume();
    }
    const lost = await reading;
    const unsent = outcome(infra.jobs.get(id));
    await server.restart();
    const dropped = await unsent;

    // The KV client's own timeout (5 s) would fail them too, but without a cause.
    assert.ok(interrupted(lost), `the KV get in flight: ${String(lost)}`);
    assert.ok(interrupted(dropped), `the KV get made while disconnected: ${String(dropped)}`);
    assert.equal((await infra.jobs.get(id))?.string(), 'record');
  });
});

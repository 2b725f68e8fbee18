/**
 * End to end: the local stack's supervisor itself killed. Its children outlive it;
 * the next `npm start` on the same home stops them and starts afresh instead of
 * failing on the ports they still hold.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePorts } from '@weft/shared/testing';
import { isAlive, REPO_ROOT, waitFor, type StackState } from './stack.js';

describe('e2e: a local stack whose supervisor was killed', { timeout: 180_000 }, () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'weft-e2e-supervisor-'));
  const started: ChildProcess[] = [];
  const state = (): StackState => JSON.parse(readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackState;
  const childPids = (s: StackState): number[] =>
    [s.nats.pid, s.api.pid, ...s.workers.map((w) => w.pid)].filter((pid): pid is number => pid !== null);
  /** Every process of the test, the children of a killed supervisor included, if the test failed. */
  const leftovers = new Set<number>();
  after(() => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('stops what the dead supervisor left running, then starts', async () => {
    const [apiPort, natsPort] = await freePorts(2);
    const start = (): ChildProcess => {
      const args = [path.join(REPO_ROOT, 'scripts', 'local-stack.mjs'), '--home', home, '--api-port', String(apiPort), '--nats-port', String(natsPort), '--workers', '1'];
      const child = spawn(process.execPath, args, { env: { ...process.env, WEFT_LOG_STDOUT: '0' }, stdio: 'ignore' });
      started.push(child);
      return child;
    };
    /** Waits until `supervisor` runs the stack, with all its children, and the API answers. */
    const running = async (supervisor: ChildProcess): Promise<StackState> => {
      const current = await waitFor(`the stack of supervisor ${supervisor.pid}`, () => {
        const s = state();
        return s.supervisorPid === supervisor.pid && childPids(s).length === 3 ? s : undefined;
      });
      await waitFor('the API', async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok);
      return current;
    };

    const first = start();
    const dead = await running(first);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const left = childPids(dead);
    for (const pid of left) leftovers.add(pid);
    assert.deepEqual(left.filter(isAlive), left, 'its children outlive the supervisor');

    const second = start();
    const restarted = await running(second);
    assert.deepEqual(left.filter(isAlive), [], 'what the dead supervisor left is stopped');
    assert.equal(childPids(restarted).filter((pid) => left.includes(pid)).length, 0);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
  });
});

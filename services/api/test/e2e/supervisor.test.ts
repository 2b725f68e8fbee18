/**
 * End to end: the local stack's supervisor itself, when it is killed, when two start
 * on one home, and when what it starts cannot run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePorts } from '@weft/shared/testing';
import { isAlive, REPO_ROOT, waitFor, type StackState } from './stack.js';

/** A supervisor started by a test, with its output so far. */
interface Supervisor {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

describe('e2e: the local stack supervisor', { timeout: 240_000 }, () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weft-e2e-supervisor-'));
  const started: ChildProcess[] = [];
  /** Every process of the tests, the children of a killed supervisor included, if a test failed. */
  const leftovers = new Set<number>();
  after(() => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  let homes = 0;
  const newHome = (): string => {
    const home = path.join(root, `home-${++homes}`);
    mkdirSync(home);
    return home;
  };
  const state = (home: string): StackState => JSON.parse(readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackState;
  const childPids = (s: StackState): number[] =>
    [s.nats.pid, s.api.pid, ...s.workers.map((w) => w.pid)].filter((pid): pid is number => pid !== null);

  const start = (home: string, ports: readonly number[], env: NodeJS.ProcessEnv = {}): Supervisor => {
    const [apiPort, natsPort] = ports;
    const args = [path.join(REPO_ROOT, 'scripts', 'local-stack.mjs'), '--home', home, '--api-port', String(apiPort), '--nats-port', String(natsPort), '--workers', '1'];
    const child = spawn(process.execPath, args, { env: { ...process.env, WEFT_LOG_STDOUT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => text, exited };
  };
  /** Waits until `supervisor` runs the stack on `home`, with all its children, and the API answers. */
  const running = async (home: string, supervisor: Supervisor, apiPort: number): Promise<StackState> => {
    await waitFor('the stack to say it runs', () => supervisor.output().includes('Weft is running'), { timeoutMs: 60_000 });
    const current = state(home);
    assert.equal(current.supervisorPid, supervisor.child.pid);
    assert.equal(childPids(current).length, 3);
    for (const pid of childPids(current)) leftovers.add(pid);
    assert.ok((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).ok);
    return current;
  };
  const stop = async (supervisor: Supervisor): Promise<number | null> => {
    supervisor.child.kill('SIGTERM');
    return supervisor.exited;
  };

  /** Whether children can be given a parent-death signal here (util-linux's setpriv 2.33 or later). */
  const lifeline = spawnSync('setpriv', ['--pdeathsig', 'TERM', '--', process.execPath, '-e', ''], { stdio: 'ignore' }).status === 0;

  it('stops its children when it is killed, and the next start on the home runs', { skip: !lifeline && 'no setpriv with --pdeathsig' }, async () => {
    const home = newHome();
    const ports = await freePorts(2);
    const first = start(home, ports);
    const dead = await running(home, first, ports[0] as number);
    first.child.kill('SIGKILL');
    await first.exited;
    const left = childPids(dead);
    await waitFor('the children of the killed supervisor to exit', () => left.every((pid) => !isAlive(pid)), { timeoutMs: 60_000 });

    const second = start(home, ports);
    await running(home, second, ports[0] as number);
    assert.equal(await stop(second), 0);
  });

  it('stops what a dead supervisor left running that its stack.json names', async () => {
    const home = newHome();
    const ports = await freePorts(2);
    // A process as a dead supervisor's child that was never told: it holds nothing, but runs.
    const orphan = spawn('sleep', ['600'], { stdio: 'ignore' });
    started.push(orphan);
    const orphanPid = orphan.pid as number;
    const orphanSignal = new Promise<NodeJS.Signals | null>((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
    writeFileSync(
      path.join(home, 'stack.json'),
      JSON.stringify({ supervisorPid: 999_999_999, nats: { pid: orphanPid, url: '' }, api: { pid: null, url: '' }, workers: [] }),
    );
    const supervisor = start(home, ports);
    await running(home, supervisor, ports[0] as number);
    assert.equal(await orphanSignal, 'SIGTERM', 'the orphan was stopped');
    assert.match(supervisor.output(), /died and left 1 of its processes running/);
    assert.equal(await stop(supervisor), 0);
  });

  it('lets one of two supervisors started on one home at the same moment run, over a stale lock', async () => {
    const home = newHome();
    // A lock whose pid now names another process (this one), which started at another time.
    writeFileSync(path.join(home, 'stack.lock'), JSON.stringify({ pid: process.pid, bootId: null, startTicks: 1 }));
    const [apiA, natsA, apiB, natsB] = await freePorts(4);
    const a = start(home, [apiA as number, natsA as number]);
    const b = start(home, [apiB as number, natsB as number]);
    const [winner, loser, winnerApi] = await Promise.race([
      a.exited.then(() => [b, a, apiB as number] as const),
      b.exited.then(() => [a, b, apiA as number] as const),
    ]);
    assert.equal(await loser.exited, 1, loser.output());
    assert.match(loser.output(), /already running from|another local stack (started|is starting) from/);
    await running(home, winner, winnerApi);
    const lock = JSON.parse(readFileSync(path.join(home, 'stack.lock'), 'utf8')) as { pid: number };
    assert.equal(lock.pid, winner.child.pid);
    assert.equal(await stop(winner), 0);
    assert.throws(() => readFileSync(path.join(home, 'stack.lock')), { code: 'ENOENT' }, 'the lock is gone with its supervisor');
  });

  it('stops at once, saying why, when a worker cannot start', async () => {
    const home = newHome();
    const failing = path.join(root, 'failing-worker.mjs');
    writeFileSync(failing, 'console.error("cannot start: no such device"); process.exit(3);\n');
    const supervisor = start(home, await freePorts(2), { WEFT_WORKER_ENTRY: failing });
    assert.equal(await supervisor.exited, 1);
    assert.match(supervisor.output(), /worker-1 exited before it was ready[\s\S]*cannot start: no such device/);
    assert.doesNotMatch(supervisor.output(), /restarting/);
  });

  it('refuses settings the services could not start with, before starting anything', async () => {
    const home = newHome();
    const [port] = await freePorts(1);
    const cases: [readonly number[], NodeJS.ProcessEnv, RegExp][] = [
      [[port as number, port as number], {}, /need a port each/],
      [await freePorts(2), { WEFT_THREADS: 'many' }, /the workers cannot start: .*WEFT_THREADS/],
      [await freePorts(2), { WEFT_HEARTBEAT_MS: '60000' }, /the workers cannot start: .*WEFT_HEARTBEAT_MS/],
      [await freePorts(2), { WEFT_BODY_LIMIT_BYTES: '12' }, /the API cannot start: .*WEFT_BODY_LIMIT_BYTES/],
    ];
    for (const [ports, env, message] of cases) {
      const supervisor = start(home, ports, env);
      assert.equal(await supervisor.exited, 1, supervisor.output());
      assert.match(supervisor.output(), message);
      assert.doesNotMatch(supervisor.output(), /nats-server ready/);
    }
  });
});

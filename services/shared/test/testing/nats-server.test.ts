import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { findNatsServerBinary, startNatsServer, type RunningNatsServer } from '../../src/testing/index.js';

/** Connects to 127.0.0.1:`port` and returns the JSON of the server's INFO line. */
async function readInfo(port: number): Promise<Record<string, unknown>> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let received = '';
      const timer = setTimeout(() => reject(new Error(`no INFO line within 5 s, got ${JSON.stringify(received)}`)), 5000);
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        const end = received.indexOf('\r\n');
        if (end >= 0) {
          clearTimeout(timer);
          resolve(received.slice(0, end));
        }
      });
    });
    assert.match(line, /^INFO \{/);
    return JSON.parse(line.slice('INFO '.length)) as Record<string, unknown>;
  } finally {
    socket.destroy();
  }
}

/** Resolves true if a TCP connection to 127.0.0.1:`port` is refused. */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Whether `pid` is a running process (zombies count as gone). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    const status = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    return status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return true;
    await sleep(50);
  }
  return !(await isAlive(pid));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Servers to stop even when a test fails half-way. */
const started: RunningNatsServer[] = [];
async function start(...args: Parameters<typeof startNatsServer>): Promise<RunningNatsServer> {
  const server = await startNatsServer(...args);
  started.push(server);
  return server;
}
after(async () => {
  await Promise.all(started.map((server) => server.stop()));
});

void describe('startNatsServer', () => {
  void it('starts a JetStream server on a free port and answers with INFO', async () => {
    const server = await start();
    assert.ok(server.port > 0);
    assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
    assert.ok(server.pid > 0);
    assert.ok(await isAlive(server.pid));
    assert.match(server.storeDir, /weft-nats-/);
    assert.ok(await exists(server.storeDir));

    const info = await readInfo(server.port);
    assert.equal(info['port'], server.port);
    assert.equal(info['jetstream'], true);
    assert.match(server.log(), /Server is ready/);
  });

  void it('restart() keeps the port and the store directory', async () => {
    const server = await start();
    const { port, storeDir, pid } = server;

    await server.kill();
    assert.ok(await waitUntilGone(pid, 2000), 'killed server is gone');
    assert.ok(await exists(storeDir), 'kill() keeps the store directory');
    assert.equal(await connectionRefused(port), true);

    await server.restart();
    assert.equal(server.port, port);
    assert.equal(server.storeDir, storeDir);
    assert.notEqual(server.pid, pid);
    assert.equal((await readInfo(port))['port'], port);

    // Restarting a running server stops it gracefully first.
    const runningPid = server.pid;
    await server.restart();
    assert.ok(await waitUntilGone(runningPid, 2000));
    assert.equal(server.port, port);
    assert.equal((await readInfo(port))['port'], port);
  });

  void it('restart() keeps JetStream state', async () => {
    const { connect: natsConnect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const server = await start();

    let nc = await natsConnect({ servers: server.url, reconnect: false });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'SURVIVOR', subjects: ['survivor.>'] });
    const js = jsm.jetstream();
    await js.publish('survivor.one', 'hello');
    await nc.close();

    await server.kill();
    await server.restart();

    nc = await natsConnect({ servers: server.url, reconnect: false });
    try {
      jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('SURVIVOR');
      assert.equal(info.state.messages, 1);
    } finally {
      await nc.close();
    }
  });

  void it('stop() ends the process and removes the temporary store directory', async () => {
    const server = await start();
    const { pid, port, storeDir } = server;
    await server.stop();
    assert.ok(await waitUntilGone(pid, 2000));
    assert.equal(await exists(storeDir), false);
    assert.equal(await connectionRefused(port), true);
    await server.stop(); // idempotent
    await assert.rejects(server.restart(), /stopped/);
  });

  void it('stop() keeps a store directory it was given', async () => {
    const storeDir = await mkdtemp(join(tmpdir(), 'weft-nats-test-'));
    try {
      const server = await start({ storeDir });
      assert.equal(server.storeDir, storeDir);
      await server.stop();
      assert.ok(await exists(join(storeDir, 'jetstream')));
    } finally {
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  void it('fails with the server output when the port is taken', async () => {
    const first = await start();
    await assert.rejects(startNatsServer({ port: first.port }), (err: Error) => {
      assert.match(err.message, /exited before it was ready/);
      assert.match(err.message, new RegExp(`${first.port}`));
      assert.match(err.message, /--- server output ---/);
      return true;
    });
  });

  void it('fails with the server output when the arguments are bad', async () => {
    await assert.rejects(startNatsServer({ args: ['--no-such-flag'] }), /exited before it was ready[\s\S]*no-such-flag/);
  });

  /**
   * Runs a separate Node process that starts a server and then either keeps
   * running (to be killed) or just ends without calling stop().
   */
  async function startInChild(keepRunning: boolean): Promise<{ child: ChildProcess; pid: number; storeDir: string }> {
    const entry = fileURLToPath(new URL('../../src/testing/index.js', import.meta.url));
    const program = [
      `const { startNatsServer } = await import(${JSON.stringify(entry)});`,
      'const server = await startNatsServer();',
      'process.stdout.write(JSON.stringify({ pid: server.pid, storeDir: server.storeDir }) + "\\n");',
      keepRunning ? 'setInterval(() => {}, 1000);' : '',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => {
        if (!out.includes('\n')) reject(new Error(`child exited early with ${String(code)}: ${out}`));
      });
    });
    const { pid, storeDir } = JSON.parse(line) as { pid: number; storeDir: string };
    return { child, pid, storeDir };
  }

  async function waitUntilRemoved(path: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!(await exists(path))) return true;
      await sleep(50);
    }
    return !(await exists(path));
  }

  void it('does not leave the server behind when the test process is killed', async () => {
    const { child, pid, storeDir } = await startInChild(true);
    try {
      assert.ok(await isAlive(pid));
      child.kill('SIGKILL');
      assert.ok(await waitUntilGone(pid, 5000), 'server was killed along with its parent');
      assert.ok(await waitUntilRemoved(storeDir, 5000), 'temporary store directory was removed');
    } finally {
      child.kill('SIGKILL');
      await rm(storeDir, { recursive: true, force: true });
    }
  });

  void it('does not keep a test process alive or leave the server behind without stop()', async () => {
    const { child, pid, storeDir } = await startInChild(false);
    try {
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.once('exit', (exitCode) => resolve(exitCode));
      });
      assert.equal(code, 0);
      assert.ok(await waitUntilGone(pid, 5000), 'server was killed when its parent exited');
      assert.equal(await exists(storeDir), false, 'temporary store directory was removed');
    } finally {
      child.kill('SIGKILL');
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});

void describe('findNatsServerBinary', () => {
  const saved = process.env['WEFT_NATS_SERVER'];
  const restore = (): void => {
    if (saved === undefined) delete process.env['WEFT_NATS_SERVER'];
    else process.env['WEFT_NATS_SERVER'] = saved;
  };

  void it('finds an installed nats-server', () => {
    assert.match(findNatsServerBinary(), /nats-server$/);
  });

  void it('prefers $WEFT_NATS_SERVER', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-nats-bin-'));
    const fake = join(dir, 'my-nats');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    try {
      process.env['WEFT_NATS_SERVER'] = fake;
      assert.equal(findNatsServerBinary(), fake);
    } finally {
      restore();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('rejects a $WEFT_NATS_SERVER that is not executable, pointing at ensure-nats.sh', () => {
    try {
      process.env['WEFT_NATS_SERVER'] = '/nonexistent/nats-server';
      assert.throws(() => findNatsServerBinary(), /WEFT_NATS_SERVER[\s\S]*scripts\/ensure-nats\.sh/);
    } finally {
      restore();
    }
  });
});

/**
 * Runs what the chart renders for NATS and for the wait-for-nats init container:
 * a real nats-server on the rendered configuration with the rendered credentials,
 * and the init container's script against a port that opens late.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { connectNats, resolveWorkerConfig } from '@weft/shared';
import { freePort, startNatsServer, type RunningNatsServer } from '@weft/shared/testing';
import { Worker } from '@weft/worker';
import { findObject, renderChart, type K8sObject } from './helm.js';

const TEST_TIMEOUT_MS = 120_000;

function secretValue(secret: ISecret, key: string): string {
  const value = secret.data?.[key];
  assert.ok(value !== undefined, `Secret ${secret.metadata?.name ?? ''} has the key ${key}`);
  return Buffer.from(value, 'base64').toString('utf8');
}

describe('chart: the rendered NATS configuration, run by nats-server', { timeout: TEST_TIMEOUT_MS }, () => {
  let dir: string;
  let server: RunningNatsServer;
  let monitorPort: number;
  let user: string;
  let password: string;
  const savedEnv = { ...process.env };

  before(async () => {
    const objects = await renderChart({ values: { nats: { auth: { enabled: true } } } });
    const config = findObject<IConfigMap>(objects, 'ConfigMap', 'weft-nats').data?.['nats.conf'];
    assert.ok(config !== undefined, 'the NATS ConfigMap holds nats.conf');
    const secret = findObject<ISecret>(objects, 'Secret', 'weft-nats-auth');
    user = secretValue(secret, 'user');
    password = secretValue(secret, 'password');

    dir = await mkdtemp(path.join(os.tmpdir(), 'weft-nats-conf-'));
    const file = path.join(dir, 'nats.conf');
    // The harness gives nats-server its own store directory (-sd), which may not be set twice.
    assert.match(config, /^\s*store_dir: \/data$/m);
    await writeFile(file, config.replace(/^\s*store_dir: .*$/m, ''));
    // What the StatefulSet sets from the downward API and the Secret.
    process.env['POD_NAME'] = 'weft-nats-0';
    process.env['WEFT_NATS_USER'] = user;
    process.env['WEFT_NATS_PASSWORD'] = password;
    monitorPort = await freePort();
    // Command-line flags override the file's ports, nothing else.
    server = await startNatsServer({ args: ['--config', file, '--http_port', String(monitorPort)] });
  });

  after(async () => {
    await server?.stop();
    process.env = savedEnv;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('requires the credentials from the Secret', async () => {
    await assert.rejects(connectNats(resolveWorkerConfig({ natsUrl: server.url }), 'anonymous'), /auth/i);
    await assert.rejects(
      connectNats(resolveWorkerConfig({ natsUrl: server.url, natsUser: user, natsPassword: `${password}x` }), 'wrong'),
      /auth/i,
    );
    const nc = await connectNats(resolveWorkerConfig({ natsUrl: server.url, natsUser: user, natsPassword: password }), 'right');
    await nc.close();
  });

  it('shows KEDA the pool’s consumer in account $G on the monitoring port', async () => {
    const worker = await Worker.create(
      resolveWorkerConfig({ natsUrl: server.url, natsUser: user, natsPassword: password, threads: 1, logLevel: 'silent' }),
    );
    try {
      const response = await fetch(`http://127.0.0.1:${monitorPort}/jsz?acc=$G&consumers=true&config=true`);
      assert.equal(response.status, 200);
      const jsz = (await response.json()) as {
        account_details?: { name: string; stream_detail?: { name: string; consumer_detail?: { name: string }[] }[] }[];
      };
      const account = jsz.account_details?.find((a) => a.name === '$G');
      assert.ok(account, `account $G in ${JSON.stringify(jsz).slice(0, 500)}`);
      const stream = account.stream_detail?.find((s) => s.name === 'weft-tasks');
      assert.ok(stream, 'stream weft-tasks');
      assert.ok(stream.consumer_detail?.some((c) => c.name === 'weft-q-default'), 'consumer weft-q-default');
      const health = await fetch(`http://127.0.0.1:${monitorPort}/healthz`);
      assert.equal(health.status, 200, 'the probes’ /healthz answers');
    } finally {
      await worker.close();
    }
  });
});

describe('chart: the wait-for-nats init container', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart();
  });

  function initScript(): string[] {
    const deployment = findObject<IDeployment>(objects, 'Deployment', 'weft-worker-default');
    const init = deployment.spec?.template.spec?.initContainers?.find((c) => c.name === 'wait-for-nats');
    const command = init?.command ?? [];
    assert.equal(command[0], 'node');
    return command.slice(1);
  }

  it('waits until NATS accepts connections, then exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, initScript(), {
      env: { PATH: process.env['PATH'], WEFT_NATS_URL: `nats://127.0.0.1:${port}, nats://127.0.0.1:1` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const listener = net.createServer((socket) => socket.destroy());
    try {
      await sleep(1500);
      assert.equal(child.exitCode, null, `still waiting while nothing listens:\n${output}`);
      assert.match(output, new RegExp(`waiting for NATS at 127\\.0\\.0\\.1:${port}`));
      await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
      const code = await Promise.race([exited, sleep(10_000, 'timeout' as const, { ref: false })]);
      assert.equal(code, 0, `exits 0 once NATS listens:\n${output}`);
      assert.match(output, /accepts connections/);
    } finally {
      child.kill('SIGKILL');
      listener.close();
    }
  });
});

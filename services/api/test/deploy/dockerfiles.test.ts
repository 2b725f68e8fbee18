/**
 * Dockerfile.api and Dockerfile.worker, checked without Docker: their instructions
 * are read and run (COPY from a build context made with .dockerignore, RUN with
 * `sh -c`) into a directory per stage, and then the API and a worker are started
 * from the final stages' file systems with the images' CMD and ENV, against a real
 * nats-server, and run a job over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { freePort, startNatsServer, type RunningNatsServer } from '@weft/shared/testing';
import { DockerBuilder, type BuiltImage } from './docker-build.js';
import { createBuildContext, isIgnored, parseDockerignore } from './docker-context.js';
import { parseDockerfile, type Dockerfile } from './dockerfile.js';
import { REPO_ROOT } from './repo.js';

const IMAGES = ['api', 'worker'] as const;
type ImageName = (typeof IMAGES)[number];

const ENTRY_POINTS: Record<ImageName, string> = {
  api: 'services/api/dist/src/server.js',
  worker: 'services/worker/dist/src/main.js',
};

async function readDockerfile(image: ImageName): Promise<Dockerfile> {
  return parseDockerfile(await readFile(path.join(REPO_ROOT, `Dockerfile.${image}`), 'utf8'));
}

/** What a RUN step sees of this machine: tools, home (and so npm's cache and config), proxies. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    const passed = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'USER'].includes(name) ||
      /^(https?_proxy|no_proxy)$/i.test(name) ||
      /^npm_config_(registry|cache|userconfig)$/i.test(name);
    if (passed) env[name] = value;
  }
  // Use npm's cache without revalidating it; missing packages are still fetched.
  env['npm_config_prefer_offline'] = 'true';
  env['npm_config_update_notifier'] = 'false';
  return env;
}

/** Every file under `dir`, relative, with `/`. Symlinks are listed, not followed. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

/** A process started from an image's CMD. */
interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts an image's CMD (its `node` is this node) in the image's WORKDIR with its ENV plus `env`. */
function startImage(image: BuiltImage, env: Record<string, string>): Running {
  const [program, ...args] = image.cmd ?? [];
  assert.equal(program, 'node');
  const child = spawn(process.execPath, args, {
    cwd: path.join(image.root, image.workdir),
    env: { PATH: process.env['PATH'] ?? '', ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Polls `url` until it answers 200. */
async function waitForOk(url: string, running: Running, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (running.child.exitCode !== null) throw new Error(`the process exited (${running.child.exitCode}) before ${url} was ready:\n${running.output()}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${status}):\n${running.output()}`);
    await sleep(200);
  }
}

describe('Dockerfiles: what they say', () => {
  for (const image of IMAGES) {
    it(`Dockerfile.${image} builds from node:24-slim and runs node as PID 1, as a numeric non-root user`, async () => {
      const dockerfile = await readDockerfile(image);
      const runtime = dockerfile.stages.at(-1);
      assert.ok(runtime);
      for (const stage of dockerfile.stages) assert.equal(stage.base, 'node:24-slim', `stage ${stage.name ?? stage.index}`);
      const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1);
      assert.match(last('USER')?.args ?? '', /^[1-9][0-9]*:[1-9][0-9]*$/, 'USER uid:gid, numeric and not root');
      assert.equal(last('USER')?.args, '10001:10001', 'the uid the Helm chart runs as');
      assert.deepEqual(JSON.parse(last('CMD')?.args ?? 'null'), ['node', ENTRY_POINTS[image]], 'exec-form CMD running node directly');
      assert.equal(last('ENTRYPOINT'), undefined, 'no ENTRYPOINT wrapping node in a shell');
      assert.equal(last('ENV')?.args, 'NODE_ENV=production');
      assert.equal(last('EXPOSE')?.args, image === 'api' ? '8080' : '9090');
      assert.deepEqual(runtime.instructions.filter((i) => i.keyword === 'RUN'), [], 'the runtime stage runs nothing: it only copies');
    });
  }

  it('.dockerignore lets only manifests, TypeScript configuration and sources into the context', async () => {
    const rules = parseDockerignore(await readFile(path.join(REPO_ROOT, '.dockerignore'), 'utf8'));
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'services/api/src/server.ts', 'services/worker/package.json']) {
      assert.equal(isIgnored(rules, file), false, `${file} is in the context`);
    }
    for (const file of [
      '.git/config',
      '.env',
      'node_modules/yaml/package.json',
      'services/api/node_modules/x/index.js',
      'services/api/dist/src/server.js',
      'services/api/test/jobs.test.ts',
      'services/worker/test/harness.ts',
      '.weft/data/jetstream/x',
      'bench-results/run.json',
      'docs/architecture.md',
      'README.md',
      'scripts/test.sh',
      'charts/weft/values.yaml',
      'Dockerfile.api',
    ]) {
      assert.equal(isIgnored(rules, file), true, `${file} is left out of the context`);
    }
  });
});

/** Two clean npm installs and builds: minutes on a busy machine (the hook must not take the per-test default). */
const BUILD_TIMEOUT_MS = 420_000;

describe('Dockerfiles: built and run without Docker', { timeout: BUILD_TIMEOUT_MS + 120_000 }, () => {
  let workDir: string;
  const images = new Map<ImageName, BuiltImage>();
  let contextFiles: string[];
  let timings: string[] = [];

  before(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'weft-docker-'));
    // The images must not find modules outside themselves (Node looks in every parent's node_modules).
    for (let dir = workDir; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
      assert.ok(!existsSync(path.join(path.dirname(dir), 'node_modules')), `no node_modules above ${workDir}`);
    }
    const context = path.join(workDir, 'context');
    const rules = parseDockerignore(await readFile(path.join(REPO_ROOT, '.dockerignore'), 'utf8'));
    contextFiles = await createBuildContext(REPO_ROOT, rules, context);
    const builder = new DockerBuilder({ context, workDir, baseEnv: baseEnv(), runTimeoutMs: BUILD_TIMEOUT_MS - 60_000 });
    const dockerfiles = await Promise.all(IMAGES.map(readDockerfile));
    const built = await Promise.all(dockerfiles.map((dockerfile) => builder.build(dockerfile)));
    IMAGES.forEach((name, i) => images.set(name, built[i] as BuiltImage));
    timings = builder.timings;
  }, { timeout: BUILD_TIMEOUT_MS });

  after(async () => {
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  function image(name: ImageName): BuiltImage {
    const built = images.get(name);
    assert.ok(built, `image ${name} was built`);
    return built;
  }

  it('builds from a context without tests', (t) => {
    for (const line of timings) t.diagnostic(line);
    assert.ok(contextFiles.includes('services/api/src/server.ts'));
    assert.deepEqual(contextFiles.filter((f) => /\/test\/|\.test\.ts$/.test(f)), []);
  });

  it('ship compiled sources and production dependencies only', async () => {
    for (const name of IMAGES) {
      const app = path.join(image(name).root, image(name).workdir);
      const files = await listFiles(app);
      assert.ok(files.includes(ENTRY_POINTS[name]), `${name}: ${ENTRY_POINTS[name]} is in the image`);
      assert.ok(files.includes('services/shared/dist/src/index.js'), `${name}: @weft/shared is in the image`);
      const own = files.filter((f) => !f.startsWith('node_modules/'));
      assert.deepEqual(own.filter((f) => f.includes('/dist/test/') || f.includes('/test/')), [], `${name}: no compiled tests`);
      assert.deepEqual(own.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], `${name}: no TypeScript sources`);
      assert.deepEqual(own.filter((f) => /tsconfig|tsbuildinfo/.test(f)), [], `${name}: no build configuration`);
      // @kubernetes/client-node lists @types/node among its runtime dependencies, so only
      // the worker image can be checked for it.
      const devOnly = ['typescript', 'eslint', 'kubernetes-models', ...(name === 'worker' ? ['@types/node'] : [])];
      for (const dependency of devOnly) {
        assert.ok(!existsSync(path.join(app, 'node_modules', dependency)), `${name}: no ${dependency} (a dev dependency)`);
      }
    }
    assert.ok(existsSync(path.join(image('worker').root, 'app/services/worker/dist/src/execution/thread.js')), 'the piscina thread file next to cpu-pool.js');
    assert.ok(!existsSync(path.join(image('worker').root, 'app/services/api/dist')), 'the worker image has no API');
    assert.ok(!existsSync(path.join(image('api').root, 'app/services/worker/dist')), 'the API image has no worker');
  });

  it('runs a job with the API and a worker started from the images, and both stop cleanly on SIGTERM', async () => {
    const nats: RunningNatsServer = await startNatsServer();
    const [apiPort, healthPort] = [await freePort(), await freePort()];
    const common = { WEFT_NATS_URL: nats.url, WEFT_PREFIX: 'dockerfile', WEFT_LOG_LEVEL: 'info' };
    const api = startImage(image('api'), { ...common, WEFT_API_HOST: '127.0.0.1', WEFT_API_PORT: String(apiPort) });
    const worker = startImage(image('worker'), { ...common, WEFT_HEALTH_PORT: String(healthPort), WEFT_THREADS: '1', WEFT_WORKER_NAME: 'image-worker' });
    try {
      await waitForOk(`http://127.0.0.1:${apiPort}/readyz`, api);
      await waitForOk(`http://127.0.0.1:${healthPort}/readyz`, worker);
      const base = `http://127.0.0.1:${apiPort}`;
      for (const [spec, expected] of [
        [{ task: 'add', args: [4, 6] }, 10],
        // fibonacci runs on the worker's thread pool: the piscina thread file must load.
        [{ task: 'fibonacci', args: [20] }, 6765],
      ] as const) {
        const response = await fetch(`${base}/v1/jobs?wait=30`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(spec),
          signal: AbortSignal.timeout(40_000),
        });
        const body = (await response.json()) as { status?: string; result?: unknown };
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.equal(body.status, 'succeeded', JSON.stringify(body));
        assert.equal(body.result, expected, `${JSON.stringify(spec)} → ${JSON.stringify(body)}`);
      }
      const workers = (await (await fetch(`${base}/v1/workers`)).json()) as { workers: { name: string }[] };
      assert.deepEqual(workers.workers.map((w) => w.name), ['image-worker']);

      for (const [name, running] of [
        ['worker', worker],
        ['api', api],
      ] as const) {
        running.child.kill('SIGTERM');
        const code = await Promise.race([running.exited, sleep(35_000, 'timeout' as const, { ref: false })]);
        assert.equal(code, 0, `${name} exits 0 on SIGTERM:\n${running.output()}`);
      }
    } finally {
      worker.child.kill('SIGKILL');
      api.child.kill('SIGKILL');
      await nats.stop();
    }
  });
});

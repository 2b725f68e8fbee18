/**
 * The shell scripts: shellcheck over every scripts/*.sh, scripts/images.sh driving
 * stand-ins for docker, kind and minikube, and scripts/helm.sh finding helm.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, describeResult, runCommand, type CommandResult } from './repo.js';

const version = (JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('scripts: shellcheck', { timeout: 120_000 }, () => {
  it('passes on every scripts/*.sh', async (t) => {
    const which = await runCommand('sh', ['-c', 'command -v shellcheck']);
    if (which.code !== 0) {
      t.skip('shellcheck is not installed (scripts/ensure-shellcheck.sh installs it; npm test runs that)');
      return;
    }
    const scripts = (await readdir(path.join(REPO_ROOT, 'scripts'))).filter((f) => f.endsWith('.sh')).sort();
    assert.ok(scripts.includes('images.sh') && scripts.includes('helm.sh') && scripts.includes('test.sh'), scripts.join(', '));
    const result = await runCommand('shellcheck', ['--external-sources', ...scripts.map((s) => path.join('scripts', s))]);
    assert.equal(result.code, 0, describeResult('shellcheck', result));
  });
});

describe('scripts: executable', () => {
  it('lets every script but the sourced lib.sh run as ./scripts/NAME', async () => {
    const dir = path.join(REPO_ROOT, 'scripts');
    for (const name of (await readdir(dir)).filter((f) => f.endsWith('.sh') && f !== 'lib.sh')) {
      const mode = (await stat(path.join(dir, name))).mode;
      assert.ok((mode & 0o111) !== 0, `scripts/${name} is executable (chmod +x, and git add it again)`);
    }
  });
});

describe('scripts/images.sh', { timeout: 120_000 }, () => {
  let bin: string;
  let calls: string;

  before(async () => {
    bin = await mkdtemp(path.join(os.tmpdir(), 'weft-images-'));
    calls = path.join(bin, 'calls.log');
    // Stand-ins that record how they were called.
    for (const tool of ['docker', 'kind', 'minikube']) {
      const stub = path.join(bin, tool);
      await writeFile(stub, `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> '${calls}'\n`);
      await chmod(stub, 0o755);
    }
  });
  after(async () => {
    if (bin !== undefined) await rm(bin, { recursive: true, force: true });
  });

  async function images(...args: string[]): Promise<{ result: CommandResult; calls: string[] }> {
    await rm(calls, { force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` };
    delete env['WEFT_IMAGE_PREFIX'];
    delete env['WEFT_KIND_CLUSTER'];
    delete env['DOCKER'];
    const result = await runCommand('bash', [path.join(REPO_ROOT, 'scripts', 'images.sh'), ...args], { env });
    const log = await readFile(calls, 'utf8').catch(() => '');
    return { result, calls: log.split('\n').filter((line) => line !== '') };
  }

  it('builds both images tagged with the package version and loads them into kind', async () => {
    const { result, calls } = await images('--load', 'kind');
    assert.equal(result.code, 0, describeResult('images.sh --load kind', result));
    assert.deepEqual(calls, [
      `docker build --file ${REPO_ROOT}/Dockerfile.api --tag weft-api:${version} ${REPO_ROOT}`,
      `docker build --file ${REPO_ROOT}/Dockerfile.worker --tag weft-worker:${version} ${REPO_ROOT}`,
      `kind load docker-image weft-api:${version} weft-worker:${version} --name weft`,
    ]);
  });

  it('prefixes, pushes and loads into minikube', async () => {
    const { result, calls } = await images('--prefix', 'registry.example.com/team', '--push', '--load=minikube');
    assert.equal(result.code, 0, describeResult('images.sh --prefix --push --load=minikube', result));
    const api = `registry.example.com/team/weft-api:${version}`;
    const worker = `registry.example.com/team/weft-worker:${version}`;
    assert.deepEqual(calls, [
      `docker build --file ${REPO_ROOT}/Dockerfile.api --tag ${api} ${REPO_ROOT}`,
      `docker build --file ${REPO_ROOT}/Dockerfile.worker --tag ${worker} ${REPO_ROOT}`,
      `docker push ${api}`,
      `docker push ${worker}`,
      `minikube image load ${api}`,
      `minikube image load ${worker}`,
    ]);
    assert.match(result.stderr, /--set api\.image\.repository=registry\.example\.com\/team\/weft-api/);
  });

  it('refuses bad arguments before building anything', async () => {
    for (const [args, message] of [
      [['--load', 'docker-desktop'], /--load must be kind or minikube/],
      [['--push'], /--push needs --prefix/],
      [['--tag', 'latest'], /unknown argument: --tag/],
    ] as const) {
      const { result, calls } = await images(...args);
      assert.notEqual(result.code, 0, `images.sh ${args.join(' ')} fails`);
      assert.match(result.stderr, message);
      assert.deepEqual(calls, [], 'nothing was built');
    }
  });
});

describe('scripts/helm.sh', { timeout: 180_000 }, () => {
  it('finds a helm that runs', async () => {
    const which = await runCommand('bash', [path.join(REPO_ROOT, 'scripts', 'helm.sh'), '--which'], { timeoutMs: 180_000 });
    assert.equal(which.code, 0, describeResult('helm.sh --which', which));
    const binary = which.stdout.trim();
    const version = await runCommand(binary, ['version', '--short']);
    assert.match(version.stdout, /^v[34]\.\d+\.\d+/, describeResult(`${binary} version`, version));
  });

  it('names a WEFT_HELM that is not executable', async () => {
    const result = await runCommand('bash', [path.join(REPO_ROOT, 'scripts', 'helm.sh'), 'version'], {
      env: { ...process.env, WEFT_HELM: '/nonexistent/helm' },
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /WEFT_HELM=\/nonexistent\/helm is not an executable file/);
  });
});

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveApiConfig } from '@weft/shared';
import { openClusterAccess, SERVICE_ACCOUNT_TOKEN_PATH } from '../../src/cluster/cluster-access.js';
import { KubeClient } from '../../src/cluster/kube-client.js';
import { KUBERNETES_RBAC_RULES, KubernetesApiError, kubernetesRbacRulesFor } from '../../src/index.js';
import { FakeKubeApi, writeKubeconfig } from './fake-kube-api.js';

describe('reaching the cluster', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-kube-access-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes service account files (token, namespace) under a fresh prefix. */
  async function serviceAccount(name: string, namespace?: string): Promise<string> {
    const prefix = join(dir, name);
    const token = prefix + SERVICE_ACCOUNT_TOKEN_PATH;
    await mkdir(dirname(token), { recursive: true });
    await writeFile(token, 'token');
    if (namespace !== undefined) await writeFile(join(dirname(token), 'namespace'), namespace);
    return prefix;
  }

  it('has no cluster without KUBERNETES_SERVICE_HOST or a kubeconfig', async () => {
    const access = await openClusterAccess(resolveApiConfig({}));
    assert.equal(access.available, false);
  });

  it('has no cluster in a pod without a service account token', async () => {
    const config = resolveApiConfig({ kubernetesServiceHost: '10.96.0.1' });
    const access = await openClusterAccess(config, { serviceAccountPrefix: join(dir, 'none') });
    assert.ok(!access.available);
    assert.match(access.reason, /no service account token/);
  });

  it('works in cluster with the service account, in its namespace unless one is configured', async () => {
    const prefix = await serviceAccount('pod', 'weft-system');
    const config = resolveApiConfig({ kubernetesServiceHost: '10.96.0.1' });
    const access = await openClusterAccess(config, { serviceAccountPrefix: prefix });
    assert.ok(access.available);
    assert.equal(access.mode, 'in-cluster');
    assert.equal(access.client.namespace, 'weft-system');

    const configured = resolveApiConfig({ kubernetesServiceHost: '10.96.0.1', k8sNamespace: 'weft-other' });
    const other = await openClusterAccess(configured, { serviceAccountPrefix: prefix });
    assert.ok(other.available);
    assert.equal(other.client.namespace, 'weft-other');
  });

  it('prefers a kubeconfig, in its context namespace unless one is configured', async () => {
    const fake = await FakeKubeApi.start({ namespace: 'weft-test' });
    try {
      const kubeconfig = await fake.writeKubeconfig(dir);
      const access = await openClusterAccess(resolveApiConfig({ k8sKubeconfig: kubeconfig, kubernetesServiceHost: 'x' }));
      assert.ok(access.available);
      assert.equal(access.mode, 'kubeconfig');
      assert.equal(access.client.namespace, 'weft-test');
      assert.equal(access.client.server, fake.url);
      const configured = await openClusterAccess(resolveApiConfig({ k8sKubeconfig: kubeconfig, k8sNamespace: 'elsewhere' }));
      assert.ok(configured.available);
      assert.equal(configured.client.namespace, 'elsewhere');
      // Opening makes no call.
      assert.equal(fake.requests.length, 0);
    } finally {
      await fake.close();
    }
  });

  it('gives up on a Kubernetes API that does not answer', async () => {
    const silent = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    await mkdir(join(dir, 'silent'));
    try {
      const server = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const kubeconfigPath = await writeKubeconfig(join(dir, 'silent'), { server, token: 't', namespace: 'weft-test' });
      const client = await KubeClient.connect({ kubeconfigPath, timeoutMs: 200 });
      const started = Date.now();
      await assert.rejects(client.listPods('weft.io/pool'), (err: unknown) => err instanceof KubernetesApiError && err.status === undefined);
      assert.ok(Date.now() - started < 5000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('needs exactly the RBAC rules it declares', () => {
    assert.deepEqual(KUBERNETES_RBAC_RULES, [
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch'] },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get'] },
    ]);
    assert.deepEqual(
      kubernetesRbacRulesFor([
        { deployment: 'weft-worker-default' },
        { deployment: 'weft-worker-cpu', hpa: 'weft-worker-cpu' },
      ]),
      [
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch'], resourceNames: ['weft-worker-default', 'weft-worker-cpu'] },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get'], resourceNames: ['weft-worker-cpu'] },
      ],
    );
    // No HPA rule without names: an empty resourceNames would grant every HPA.
    assert.equal(kubernetesRbacRulesFor([{ deployment: 'weft-worker-default' }]).length, 2);
  });
});

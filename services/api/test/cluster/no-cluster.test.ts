import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@weft/shared';
import type { WorkerList } from '../../src/index.js';
import { bodyOf } from '../helpers/http.js';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';
import { problemOf } from '../helpers/http.js';
import { appWith, putReplicas } from './cluster-apps.js';

describe('cluster endpoints outside a cluster', () => {
  let env: TestEnv;
  before(async () => {
    // No kubeconfig, no KUBERNETES_SERVICE_HOST: the configuration a local run has.
    env = await startTestEnv({
      worker: false,
      config: { k8sWorkerPools: [{ pool: 'default', deployment: 'weft-worker-default' }] },
    });
  });
  after(async () => {
    await env?.close();
  });

  it('lists the live workers and says why there is no cluster', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/v1/workers' });
    assert.equal(response.statusCode, 200, response.body);
    const { workers, cluster } = bodyOf<WorkerList>(response);
    assert.deepEqual(workers, []);
    assert.equal(cluster.status, 'unavailable');
    assert.ok(cluster.status === 'unavailable');
    assert.match(cluster.reason, /not running in a Kubernetes cluster .*WEFT_K8S_KUBECONFIG/);
  });

  it('answers 501 CLUSTER_UNAVAILABLE to a scale request', async () => {
    const problem = problemOf(await putReplicas(env.app, 'default', { replicas: 2 }), 501, 'CLUSTER_UNAVAILABLE');
    assert.match(problem.detail, /^no Kubernetes cluster is available: /);
    // The body is still checked first.
    problemOf(await putReplicas(env.app, 'default', { replicas: -2 }), 400, 'INVALID_REQUEST');
  });

  it('refuses to start with a kubeconfig that cannot be loaded, naming the variable', async () => {
    await assert.rejects(
      appWith(env, { k8sKubeconfig: '/nonexistent/weft/kubeconfig' }),
      (err: unknown) => err instanceof ConfigError && err.issues[0]?.pointer === 'WEFT_K8S_KUBECONFIG',
    );
  });
});

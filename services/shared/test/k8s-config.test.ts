import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiConfigFromEnv, ConfigError, resolveApiConfig } from '../src/index.js';

/** The issues of the ConfigError `fn` throws. */
function configIssues(fn: () => unknown): { pointer: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map(({ pointer, message }) => ({ pointer, message }));
  }
  assert.fail('expected a ConfigError');
}

describe('Kubernetes settings of the API', () => {
  it('default to no cluster settings and no pools', () => {
    const config = apiConfigFromEnv({});
    assert.equal(config.kubernetesServiceHost, undefined);
    assert.equal(config.k8sKubeconfig, undefined);
    assert.equal(config.k8sNamespace, undefined);
    assert.equal(config.k8sWorkerSelector, 'weft.io/pool');
    assert.deepEqual(config.k8sWorkerPools, []);
    assert.equal(config.k8sMaxReplicas, 100);
  });

  it('read the variables, with pools as JSON', () => {
    const config = apiConfigFromEnv({
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      WEFT_K8S_KUBECONFIG: '/tmp/kubeconfig',
      WEFT_K8S_NAMESPACE: 'weft-prod',
      WEFT_K8S_WORKER_SELECTOR: 'app.kubernetes.io/instance=weft,app.kubernetes.io/component=worker',
      WEFT_K8S_MAX_REPLICAS: '20',
      WEFT_K8S_WORKER_POOLS: JSON.stringify([
        { pool: 'default', deployment: 'weft-worker-default' },
        { pool: 'cpu', deployment: 'weft-worker-cpu', autoscaler: 'hpa', hpa: 'weft-worker-cpu' },
        { pool: 'burst', deployment: 'weft-worker-burst', autoscaler: 'keda', hpa: 'keda-hpa-weft-worker-burst' },
      ]),
    });
    assert.equal(config.kubernetesServiceHost, '10.0.0.1');
    assert.equal(config.k8sKubeconfig, '/tmp/kubeconfig');
    assert.equal(config.k8sNamespace, 'weft-prod');
    assert.equal(config.k8sWorkerSelector, 'app.kubernetes.io/instance=weft,app.kubernetes.io/component=worker');
    assert.equal(config.k8sMaxReplicas, 20);
    assert.deepEqual(config.k8sWorkerPools, [
      { pool: 'default', deployment: 'weft-worker-default', autoscaler: 'none' },
      { pool: 'cpu', deployment: 'weft-worker-cpu', autoscaler: 'hpa', hpa: 'weft-worker-cpu' },
      { pool: 'burst', deployment: 'weft-worker-burst', autoscaler: 'keda', hpa: 'keda-hpa-weft-worker-burst' },
    ]);
  });

  it('freeze the pools', () => {
    const config = resolveApiConfig({ k8sWorkerPools: [{ pool: 'default', deployment: 'weft-worker-default' }] });
    assert.ok(Object.isFrozen(config.k8sWorkerPools));
    assert.ok(Object.isFrozen(config.k8sWorkerPools[0]));
  });

  it('name the variable when the pools are not JSON', () => {
    const issues = configIssues(() => apiConfigFromEnv({ WEFT_K8S_WORKER_POOLS: '[{"pool": "default",' }));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.pointer, 'WEFT_K8S_WORKER_POOLS');
    assert.match(issues[0]?.message ?? '', /not valid JSON/);
  });

  it('point into the pools when one is invalid', () => {
    const pools = (value: unknown) => configIssues(() => apiConfigFromEnv({ WEFT_K8S_WORKER_POOLS: JSON.stringify(value) }));
    assert.deepEqual(
      pools({ pool: 'default' }).map((i) => i.pointer),
      ['WEFT_K8S_WORKER_POOLS'],
    );
    assert.deepEqual(
      pools([{ pool: 'default', deployment: 'd', autoscaler: 'hpa' }]).map((i) => i.pointer),
      ['WEFT_K8S_WORKER_POOLS/0/hpa'],
    );
    assert.deepEqual(
      pools([{ pool: 'default', deployment: 'd', hpa: 'h' }]).map((i) => i.pointer),
      ['WEFT_K8S_WORKER_POOLS/0/hpa'],
    );
    assert.deepEqual(
      pools([{ pool: 'default', deployment: 'Not_A_Name' }, { pool: 'x', deployment: 'd', autoscaler: 'vpa', hpa: 'h' }]).map(
        (i) => i.pointer,
      ),
      ['WEFT_K8S_WORKER_POOLS/0/deployment', 'WEFT_K8S_WORKER_POOLS/1/autoscaler'],
    );
    assert.deepEqual(
      pools([{ pool: 'default', deployment: 'd', extra: 1 }]).map((i) => i.pointer),
      ['WEFT_K8S_WORKER_POOLS/0'],
    );
    assert.deepEqual(
      pools([
        { pool: 'a', deployment: 'd' },
        { pool: 'a', deployment: 'd' },
      ]).map((i) => i.pointer),
      ['WEFT_K8S_WORKER_POOLS/1/pool', 'WEFT_K8S_WORKER_POOLS/1/deployment'],
    );
  });

  it('reject a namespace that is not a DNS label, naming the variable', () => {
    const issues = configIssues(() => apiConfigFromEnv({ WEFT_K8S_NAMESPACE: 'Weft.Prod' }));
    assert.deepEqual(
      issues.map((i) => i.pointer),
      ['WEFT_K8S_NAMESPACE'],
    );
  });
});

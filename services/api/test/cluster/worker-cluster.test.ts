import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { WorkerPool } from '@weft/shared';
import type { ClusterView, PoolScale, WorkerList } from '../../src/index.js';
import { bodyOf } from '../helpers/http.js';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';
import { problemOf } from '../helpers/http.js';
import { putReplicas, withClusterApp } from './cluster-apps.js';
import { FakeKubeApi, type FakeKubeApiOptions } from './fake-kube-api.js';

const NAMESPACE = 'weft-test';
const SELECTOR = 'app.kubernetes.io/instance=weft,app.kubernetes.io/component=worker';
const WORKER_LABELS = { 'app.kubernetes.io/instance': 'weft', 'app.kubernetes.io/component': 'worker' };

const POOLS: WorkerPool[] = [
  { pool: 'default', deployment: 'weft-worker-default', autoscaler: 'none' },
  { pool: 'cpu', deployment: 'weft-worker-cpu', autoscaler: 'hpa', hpa: 'weft-worker-cpu' },
  { pool: 'burst', deployment: 'weft-worker-burst', autoscaler: 'keda', hpa: 'keda-hpa-weft-worker-burst' },
];

/** The settings every app of this file uses. */
const CLUSTER_CONFIG = { k8sWorkerPools: POOLS, k8sWorkerSelector: SELECTOR, k8sMaxReplicas: 10 };

/** A release: three pools, their pods (one of them this host, where the test worker runs), and an API pod. */
function release(): FakeKubeApiOptions {
  return {
    namespace: NAMESPACE,
    deployments: {
      'weft-worker-default': { replicas: 2, currentReplicas: 2 },
      'weft-worker-cpu': { replicas: 3, currentReplicas: 3 },
      'weft-worker-burst': { replicas: 1, currentReplicas: 1 },
    },
    hpas: {
      'weft-worker-cpu': { target: 'weft-worker-cpu', minReplicas: 2, maxReplicas: 8, currentReplicas: 3, desiredReplicas: 4 },
      'keda-hpa-weft-worker-burst': { target: 'weft-worker-burst', maxReplicas: 20, desiredReplicas: 1 },
    },
    pods: [
      {
        name: 'weft-worker-default-7d9f-b',
        labels: { ...WORKER_LABELS, 'weft.io/pool': 'default' },
        phase: 'Pending',
        ready: false,
        restarts: [0],
      },
      {
        name: hostname(),
        labels: { ...WORKER_LABELS, 'weft.io/pool': 'default' },
        phase: 'Running',
        ready: true,
        restarts: [1, 2],
        node: 'node-a',
        startTime: '2025-03-01T10:00:00Z',
      },
      {
        name: 'weft-worker-cpu-5c8b-x',
        labels: { ...WORKER_LABELS, 'weft.io/pool': 'cpu' },
        phase: 'Running',
        ready: false,
        restarts: [4],
        node: 'node-b',
        startTime: '2025-03-01T11:00:00Z',
      },
      {
        name: 'weft-worker-burst-9a1e-q',
        labels: { ...WORKER_LABELS, 'weft.io/pool': 'burst' },
        phase: 'Running',
        ready: true,
        restarts: [0],
        node: 'node-a',
        startTime: '2025-03-01T12:00:00Z',
        deleting: true,
      },
      {
        name: 'weft-api-6f7c-k',
        labels: { 'app.kubernetes.io/instance': 'weft', 'app.kubernetes.io/component': 'api' },
        phase: 'Running',
        ready: true,
        restarts: [0],
      },
    ],
  };
}

/** Runs `fn` against a fresh fake release and an app pointed at it. */
async function withRelease(
  env: TestEnv,
  fn: (app: Parameters<Parameters<typeof withClusterApp>[3]>[0], fake: FakeKubeApi) => Promise<void>,
  options: FakeKubeApiOptions = release(),
): Promise<void> {
  const fake = await FakeKubeApi.start(options);
  try {
    await withClusterApp(env, fake, CLUSTER_CONFIG, (app) => fn(app, fake));
  } finally {
    await fake.close();
  }
}

const clusterOf = (response: { body: string }): ClusterView => (JSON.parse(response.body) as WorkerList).cluster;

/** Asserts the cluster section is `ok`, and returns it. */
function okCluster(view: ClusterView): Extract<ClusterView, { status: 'ok' }> {
  assert.ok(view.status === 'ok', JSON.stringify(view));
  return view;
}

describe('worker pods and pools on Kubernetes', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.close();
  });

  it('shows the worker pods and pools next to the live workers', async () => {
    await withRelease(env, async (app, fake) => {
      const response = await app.inject({ method: 'GET', url: '/v1/workers' });
      assert.equal(response.statusCode, 200, response.body);
      const { workers, cluster } = bodyOf<WorkerList>(response);
      assert.deepEqual(
        workers.map((w) => w.id),
        [env.worker?.id],
      );
      const view = okCluster(cluster);
      assert.equal(view.namespace, NAMESPACE);
      assert.deepEqual(view.pools, [
        { pool: 'default', deployment: 'weft-worker-default', replicas: { desired: 2, current: 2 }, autoscaler: { kind: 'none' } },
        {
          pool: 'cpu',
          deployment: 'weft-worker-cpu',
          replicas: { desired: 3, current: 3 },
          autoscaler: {
            kind: 'hpa',
            hpa: 'weft-worker-cpu',
            found: true,
            minReplicas: 2,
            maxReplicas: 8,
            currentReplicas: 3,
            desiredReplicas: 4,
          },
        },
        {
          pool: 'burst',
          deployment: 'weft-worker-burst',
          replicas: { desired: 1, current: 1 },
          autoscaler: {
            kind: 'keda',
            hpa: 'keda-hpa-weft-worker-burst',
            found: true,
            minReplicas: 1,
            maxReplicas: 20,
            currentReplicas: null,
            desiredReplicas: 1,
          },
        },
      ]);
      // By pool, then name; the API pod does not match the selector.
      const defaults = [hostname(), 'weft-worker-default-7d9f-b'].sort();
      assert.deepEqual(
        view.pods.map((p) => p.name),
        ['weft-worker-burst-9a1e-q', 'weft-worker-cpu-5c8b-x', ...defaults],
      );
      const byName = new Map(view.pods.map((p) => [p.name, p]));
      assert.deepEqual(byName.get(hostname()), {
        name: hostname(),
        pool: 'default',
        phase: 'Running',
        ready: true,
        restarts: 3,
        node: 'node-a',
        startedAt: '2025-03-01T10:00:00.000Z',
        terminating: false,
        workers: [env.worker?.id],
      });
      assert.deepEqual(byName.get('weft-worker-default-7d9f-b'), {
        name: 'weft-worker-default-7d9f-b',
        pool: 'default',
        phase: 'Pending',
        ready: false,
        restarts: 0,
        node: null,
        startedAt: null,
        terminating: false,
        workers: [],
      });
      assert.equal(byName.get('weft-worker-cpu-5c8b-x')?.ready, false, 'Running but not Ready');
      assert.equal(byName.get('weft-worker-cpu-5c8b-x')?.restarts, 4);
      assert.equal(byName.get('weft-worker-burst-9a1e-q')?.terminating, true);

      // Only what the Role grants, each once.
      assert.deepEqual(fake.refused, []);
      const calls = fake.requests.map((r) => `${r.method} ${r.path}`).sort();
      assert.deepEqual(calls, [
        `GET /api/v1/namespaces/${NAMESPACE}/pods`,
        `GET /apis/apps/v1/namespaces/${NAMESPACE}/deployments/weft-worker-burst/scale`,
        `GET /apis/apps/v1/namespaces/${NAMESPACE}/deployments/weft-worker-cpu/scale`,
        `GET /apis/apps/v1/namespaces/${NAMESPACE}/deployments/weft-worker-default/scale`,
        `GET /apis/autoscaling/v2/namespaces/${NAMESPACE}/horizontalpodautoscalers/keda-hpa-weft-worker-burst`,
        `GET /apis/autoscaling/v2/namespaces/${NAMESPACE}/horizontalpodautoscalers/weft-worker-cpu`,
      ]);
      const list = fake.requests.find((r) => r.path.endsWith('/pods'));
      assert.equal(list?.query['labelSelector'], SELECTOR);
    });
  });

  it('reuses a recent read of the cluster', async () => {
    await withRelease(env, async (app, fake) => {
      const [first, second] = await Promise.all([
        app.inject({ method: 'GET', url: '/v1/workers' }),
        app.inject({ method: 'GET', url: '/v1/workers' }),
      ]);
      const third = await app.inject({ method: 'GET', url: '/v1/workers' });
      for (const response of [first, second, third]) okCluster(clusterOf(response));
      assert.equal(fake.requests.filter((r) => r.path.endsWith('/pods')).length, 1);
    });
  });

  it('shows a missing Deployment or HPA as nulls', async () => {
    const options = release();
    delete options.deployments?.['weft-worker-burst'];
    delete options.hpas?.['weft-worker-cpu'];
    const grants = { deployments: POOLS.map((p) => p.deployment), hpas: POOLS.flatMap((p) => (p.hpa ? [p.hpa] : [])) };
    await withRelease(
      env,
      async (app, fake) => {
        const view = okCluster(clusterOf(await app.inject({ method: 'GET', url: '/v1/workers' })));
        const [, cpu, burst] = view.pools;
        assert.deepEqual(cpu?.autoscaler, {
          kind: 'hpa',
          hpa: 'weft-worker-cpu',
          found: false,
          minReplicas: null,
          maxReplicas: null,
          currentReplicas: null,
          desiredReplicas: null,
        });
        assert.equal(burst?.replicas, null);
        assert.deepEqual(
          fake.requests
            .filter((r) => r.status === 404)
            .map((r) => r.path)
            .sort(),
          [
            `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/weft-worker-burst/scale`,
            `/apis/autoscaling/v2/namespaces/${NAMESPACE}/horizontalpodautoscalers/weft-worker-cpu`,
          ],
        );
        assert.deepEqual(fake.refused, []);
      },
      { ...options, grants },
    );
  });

  it('scales a pool scaled by hand through the scale subresource', async () => {
    await withRelease(env, async (app, fake) => {
      okCluster(clusterOf(await app.inject({ method: 'GET', url: '/v1/workers' })));
      const response = await putReplicas(app, 'default', { replicas: 5 });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(bodyOf<PoolScale>(response), {
        pool: 'default',
        namespace: NAMESPACE,
        deployment: 'weft-worker-default',
        replicas: { desired: 5, current: 2 },
      });
      assert.equal(fake.deployments.get('weft-worker-default')?.replicas, 5);
      const patches = fake.requests.filter((r) => r.method === 'PATCH');
      assert.equal(patches.length, 1);
      assert.equal(patches[0]?.path, `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/weft-worker-default/scale`);
      assert.equal(patches[0]?.contentType, 'application/merge-patch+json');
      assert.deepEqual(patches[0]?.body, { spec: { replicas: 5 } });

      // The next read sees the change at once, and zero is a valid count.
      const view = okCluster(clusterOf(await app.inject({ method: 'GET', url: '/v1/workers' })));
      assert.deepEqual(view.pools[0]?.replicas, { desired: 5, current: 2 });
      assert.equal((await putReplicas(app, 'default', { replicas: 0 })).statusCode, 200);
      assert.equal(fake.deployments.get('weft-worker-default')?.replicas, 0);
      assert.deepEqual(fake.refused, []);
    });
  });

  it('refuses to scale pools an HPA or KEDA scales, with 409', async () => {
    await withRelease(env, async (app, fake) => {
      const hpa = problemOf(await putReplicas(app, 'cpu', { replicas: 4 }), 409, 'POOL_AUTOSCALED');
      assert.equal(hpa['pool'], 'cpu');
      assert.equal(hpa['autoscaler'], 'hpa');
      assert.equal(hpa['hpa'], 'weft-worker-cpu');
      assert.match(hpa.detail, /HorizontalPodAutoscaler "weft-worker-cpu"; change its minReplicas and maxReplicas/);
      assert.match(hpa.detail, /turn autoscaling off for the pool/);

      const keda = problemOf(await putReplicas(app, 'burst', { replicas: 4 }), 409, 'POOL_AUTOSCALED');
      assert.equal(keda['autoscaler'], 'keda');
      assert.match(keda.detail, /KEDA .*ScaledObject's minReplicaCount and maxReplicaCount/);

      assert.equal(fake.requests.length, 0);
      assert.equal(fake.deployments.get('weft-worker-cpu')?.replicas, 3);
    });
  });

  it('answers 404 for an unknown pool', async () => {
    await withRelease(env, async (app, fake) => {
      const problem = problemOf(await putReplicas(app, 'gpu', { replicas: 1 }), 404, 'POOL_NOT_FOUND');
      assert.equal(problem['pool'], 'gpu');
      assert.deepEqual(problem['knownPools'], ['default', 'cpu', 'burst']);
      assert.equal(fake.requests.length, 0);
    });
  });

  it('rejects replica counts out of range with a pointer to the field', async () => {
    await withRelease(env, async (app, fake) => {
      for (const replicas of [-1, 11, 1.5, '3', null]) {
        const problem = problemOf(await putReplicas(app, 'default', { replicas }), 400, 'INVALID_REQUEST');
        assert.deepEqual(
          problem.errors?.map((e) => e.pointer),
          ['/replicas'],
          JSON.stringify(replicas),
        );
      }
      const missing = problemOf(await putReplicas(app, 'default', {}), 400, 'INVALID_REQUEST');
      assert.deepEqual(
        missing.errors?.map((e) => e.pointer),
        ['/replicas'],
      );
      const extra = problemOf(await putReplicas(app, 'default', { replicas: 2, pool: 'x' }), 400, 'INVALID_REQUEST');
      assert.equal(extra.errors?.length, 1);
      problemOf(await putReplicas(app, 'default', [3]), 400, 'INVALID_REQUEST');
      assert.equal(fake.requests.length, 0);
      assert.equal(fake.deployments.get('weft-worker-default')?.replicas, 2);
    });
  });

  it('turns a 403 of the Kubernetes API into a clean 502, and an error section in the listing', async () => {
    await withRelease(env, async (app, fake) => {
      fake.grants.deployments.delete('weft-worker-default');
      const problem = problemOf(await putReplicas(app, 'default', { replicas: 3 }), 502, 'KUBERNETES_FORBIDDEN');
      assert.match(problem.detail, /service account lacks a permission/);
      assert.doesNotMatch(problem.detail, /weft-worker-default|system:serviceaccount|deployments/);
      assert.equal(fake.refused.length, 1);
      assert.equal(fake.deployments.get('weft-worker-default')?.replicas, 2);

      fake.grants.pods = false;
      const response = await app.inject({ method: 'GET', url: '/v1/workers' });
      assert.equal(response.statusCode, 200, response.body);
      const { workers, cluster } = bodyOf<WorkerList>(response);
      assert.equal(workers.length, 1, 'the live workers are still listed');
      assert.equal(cluster.status, 'error');
      assert.ok(cluster.status === 'error');
      assert.equal(cluster.namespace, NAMESPACE);
      assert.equal(cluster.code, 'KUBERNETES_FORBIDDEN');
      assert.doesNotMatch(cluster.detail, /system:serviceaccount|pods/);

      // A failed read is not reused.
      fake.grants.pods = true;
      fake.grants.deployments.add('weft-worker-default');
      okCluster(clusterOf(await app.inject({ method: 'GET', url: '/v1/workers' })));
    });
  });

  it('answers 502 when a configured pool has no Deployment', async () => {
    const options = release();
    delete options.deployments?.['weft-worker-default'];
    await withRelease(
      env,
      async (app) => {
        const problem = problemOf(await putReplicas(app, 'default', { replicas: 3 }), 502, 'POOL_DEPLOYMENT_NOT_FOUND');
        assert.equal(problem['deployment'], 'weft-worker-default');
      },
      { ...options, grants: { deployments: ['weft-worker-default', 'weft-worker-cpu', 'weft-worker-burst'] } },
    );
  });

  it('answers 502 with a generic message when the Kubernetes API is unreachable', async () => {
    await withRelease(env, async (app, fake) => {
      await fake.close();
      const problem = problemOf(await putReplicas(app, 'default', { replicas: 3 }), 502, 'KUBERNETES_API_ERROR');
      assert.equal(problem.detail, 'a request to the Kubernetes API failed');
      const cluster = clusterOf(await app.inject({ method: 'GET', url: '/v1/workers' }));
      assert.deepEqual(cluster, {
        status: 'error',
        namespace: NAMESPACE,
        code: 'KUBERNETES_API_ERROR',
        detail: 'a request to the Kubernetes API failed',
      });
    });
  });

  it('documents the cluster section and the scale route in OpenAPI', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = bodyOf<{
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
      components: { schemas: Record<string, unknown> };
    }>(response);
    const put = doc.paths['/v1/workers/{pool}/replicas']?.['put'];
    assert.ok(put);
    for (const status of ['200', '400', '404', '409', '501', '502']) assert.ok(put.responses[status], status);
    assert.match(JSON.stringify(put.requestBody), /"replicas"/);
    assert.ok(doc.components.schemas['ClusterView']);
    assert.match(JSON.stringify(doc.components.schemas['ClusterView']), /unavailable/);
  });
});

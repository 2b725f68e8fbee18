/**
 * Renders charts/weft with `helm template` for several sets of values and checks
 * every object against the Kubernetes schemas and what Weft needs of it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { parse as parseYaml } from 'yaml';
import { checkRelease, containerOf, envOf, envValue, selects, type Expected } from './chart-checks.js';
import { CHART_DIR, findObject, objectsOfKind, renderChart, type K8sObject } from './helm.js';
import { REPO_ROOT } from './repo.js';

const TEST_TIMEOUT_MS = 120_000;

const packageVersion = (JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const DEFAULT_EXPECTED: Expected = {
  release: 'weft',
  namespace: 'weft',
  fullname: 'weft',
  prefix: 'weft',
  natsUrl: 'nats://weft-nats:4222',
  pools: [
    { pool: 'default', deployment: 'weft-worker-default', autoscaler: 'hpa', hpa: 'weft-worker-default', queues: ['default'] },
  ],
};

function kinds(objects: readonly K8sObject[]): string[] {
  return objects.map((o) => o.kind);
}

function deployment(objects: readonly K8sObject[], name: string): IDeployment {
  return findObject<IDeployment>(objects, 'Deployment', name);
}

describe('chart: default values', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart();
  });

  it('renders a release that passes every common check', () => {
    checkRelease(objects, DEFAULT_EXPECTED);
  });

  it('runs the images of this version, pulled only when missing', async () => {
    const chart = parseYaml(await readFile(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    assert.equal(chart.appVersion, packageVersion, 'Chart.yaml appVersion equals package.json version');
    const api = containerOf(deployment(objects, 'weft-api'), 'api');
    const worker = containerOf(deployment(objects, 'weft-worker-default'), 'worker');
    assert.equal(api.image, `weft-api:${packageVersion}`);
    assert.equal(worker.image, `weft-worker:${packageVersion}`);
    assert.equal(api.imagePullPolicy, 'IfNotPresent');
    assert.equal(worker.imagePullPolicy, 'IfNotPresent');
    assert.equal(envValue(worker, 'WEFT_THREADS'), undefined, 'threads follow the CPU limit unless a pool sets them');
  });

  it('runs NATS with JetStream on a PersistentVolumeClaim, monitoring on 8222', () => {
    const nats = findObject<IStatefulSet>(objects, 'StatefulSet', 'weft-nats');
    assert.equal(nats.spec?.replicas, 1);
    const claim = nats.spec?.volumeClaimTemplates?.[0];
    assert.equal(claim?.metadata?.name, 'data');
    assert.equal(claim?.spec?.resources?.requests?.['storage'], '10Gi');
    const container = nats.spec?.template.spec?.containers[0];
    assert.match(container?.image ?? '', /^nats:2\.\d+-alpine$/);
    assert.ok(container?.volumeMounts?.some((m) => m.name === 'data' && m.mountPath === '/data'));
    const config = findObject<IConfigMap>(objects, 'ConfigMap', 'weft-nats').data?.['nats.conf'] ?? '';
    assert.match(config, /jetstream \{[^}]*store_dir: \/data/);
    assert.doesNotMatch(config, /sync_interval/, 'the server default, which every NATS version knows');
    assert.match(config, /http_port: 8222/);
    assert.doesNotMatch(config, /authorization/);
    const service = findObject<IService>(objects, 'Service', 'weft-nats');
    assert.deepEqual(
      service.spec?.ports?.map((p) => [p.name, p.port]),
      [
        ['client', 4222],
        ['monitor', 8222],
      ],
    );
    assert.equal(nats.spec?.serviceName, 'weft-nats-headless');
    assert.equal(findObject<IService>(objects, 'Service', 'weft-nats-headless').spec?.clusterIP, 'None');
  });

  it('waits for NATS in an init container of the pod’s own image', () => {
    for (const name of ['weft-api', 'weft-worker-default']) {
      const spec = deployment(objects, name).spec?.template.spec;
      const init = spec?.initContainers?.find((c) => c.name === 'wait-for-nats');
      assert.ok(init, `${name} has the wait-for-nats init container`);
      assert.equal(init.image, spec?.containers[0]?.image);
      assert.equal(envValue(init, 'WEFT_NATS_URL'), 'nats://weft-nats:4222');
    }
  });

  it('renders nothing optional', () => {
    for (const kind of ['Ingress', 'NetworkPolicy', 'Secret', 'ScaledObject', 'PersistentVolumeClaim']) {
      assert.ok(!kinds(objects).includes(kind), `no ${kind} by default`);
    }
  });
});

describe('chart: autoscaling off', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart({ values: { workers: { defaults: { autoscaling: { enabled: false }, replicas: 3 } } } });
  });

  it('sets spec.replicas, renders no autoscaler and grants no autoscaler read', () => {
    checkRelease(objects, {
      ...DEFAULT_EXPECTED,
      pools: [{ pool: 'default', deployment: 'weft-worker-default', autoscaler: 'none', queues: ['default'], replicas: 3 }],
    });
  });
});

describe('chart: several pools, KEDA, another release name and namespace', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart({
      release: 'prod',
      namespace: 'jobs',
      values: {
        prefix: 'acme',
        workers: {
          defaults: { autoscaling: { enabled: false }, keda: { enabled: true } },
          pools: [
            { name: 'default', queues: ['default'] },
            { name: 'heavy', queues: ['heavy', 'bulk'], threads: 2, keda: { enabled: false }, autoscaling: { enabled: true, maxReplicas: 20 } },
            { name: 'batch', queues: ['batch'], keda: { enabled: false }, replicas: 3 },
          ],
        },
      },
    });
  });

  it('gives each pool its own Deployment and autoscaler', () => {
    checkRelease(objects, {
      release: 'prod',
      namespace: 'jobs',
      fullname: 'prod-weft',
      prefix: 'acme',
      natsUrl: 'nats://prod-weft-nats:4222',
      pools: [
        { pool: 'default', deployment: 'prod-weft-worker-default', autoscaler: 'keda', hpa: 'keda-hpa-prod-weft-worker-default', queues: ['default'] },
        { pool: 'heavy', deployment: 'prod-weft-worker-heavy', autoscaler: 'hpa', hpa: 'prod-weft-worker-heavy', queues: ['heavy', 'bulk'], threads: 2 },
        { pool: 'batch', deployment: 'prod-weft-worker-batch', autoscaler: 'none', queues: ['batch'], replicas: 3 },
      ],
    });
  });

  it('points KEDA at the NATS monitoring endpoint and the pool’s consumer', () => {
    const scaled = findObject<IScaledObject>(objects, 'ScaledObject', 'prod-weft-worker-default');
    assert.deepEqual(scaled.spec.triggers[0]?.metadata, {
      natsServerMonitoringEndpoint: 'prod-weft-nats.jobs.svc.cluster.local:8222',
      account: '$G',
      stream: 'acme-tasks',
      consumer: 'acme-q-default',
      lagThreshold: '10',
      activationLagThreshold: '0',
      useHttps: 'false',
    });
    assert.equal(scaled.spec.minReplicaCount, 1);
    assert.equal(scaled.spec.maxReplicaCount, 10);
  });

  it('applies a pool’s overrides over workers.defaults key by key', () => {
    const hpa = findObject<K8sObject>(objects, 'HorizontalPodAutoscaler', 'prod-weft-worker-heavy');
    assert.deepEqual((hpa['spec'] as { minReplicas: number; maxReplicas: number }).minReplicas, 2);
    assert.deepEqual((hpa['spec'] as { minReplicas: number; maxReplicas: number }).maxReplicas, 20);
  });
});

describe('chart: external NATS', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart({
      values: {
        nats: { external: { url: 'nats://nats.messaging.svc:4222', monitoringEndpoint: 'nats.messaging.svc:8222' } },
        workers: { defaults: { autoscaling: { enabled: false }, keda: { enabled: true } } },
      },
    });
  });

  it('deploys no NATS and connects to the external one', () => {
    checkRelease(objects, {
      ...DEFAULT_EXPECTED,
      natsUrl: 'nats://nats.messaging.svc:4222',
      pools: [{ pool: 'default', deployment: 'weft-worker-default', autoscaler: 'keda', hpa: 'keda-hpa-weft-worker-default', queues: ['default'] }],
    });
    for (const kind of ['StatefulSet', 'ConfigMap']) assert.ok(!kinds(objects).includes(kind), `no ${kind}`);
    assert.deepEqual(objectsOfKind<IService>(objects, 'Service').map((s) => s.metadata?.name), ['weft-api']);
    const scaled = findObject<IScaledObject>(objects, 'ScaledObject', 'weft-worker-default');
    assert.equal(scaled.spec.triggers[0]?.metadata['natsServerMonitoringEndpoint'], 'nats.messaging.svc:8222');
  });
});

describe('chart: NATS syncing every write', { timeout: TEST_TIMEOUT_MS }, () => {
  it('passes syncInterval to JetStream, and refuses what is no interval', async () => {
    const objects = await renderChart({ values: { nats: { jetstream: { syncInterval: 'always' } } } });
    const config = findObject<IConfigMap>(objects, 'ConfigMap', 'weft-nats').data?.['nats.conf'] ?? '';
    assert.match(config, /jetstream \{[^}]*sync_interval: always/);
    await assert.rejects(renderChart({ values: { nats: { jetstream: { syncInterval: 'often' } } } }), /syncInterval/);
  });
});

describe('chart: images from a private registry', { timeout: TEST_TIMEOUT_MS }, () => {
  it('gives the pull secrets to every pod: the API, the workers and NATS', async () => {
    const objects = await renderChart({ values: { imagePullSecrets: ['registry-credentials'] } });
    const pods = [
      ['API', deployment(objects, 'weft-api').spec?.template.spec],
      ['workers', deployment(objects, 'weft-worker-default').spec?.template.spec],
      ['NATS', findObject<IStatefulSet>(objects, 'StatefulSet', 'weft-nats').spec?.template.spec],
    ] as const;
    for (const [name, pod] of pods) assert.deepEqual(pod?.imagePullSecrets, [{ name: 'registry-credentials' }], name);
  });
});

describe('chart: shared data volume', { timeout: TEST_TIMEOUT_MS }, () => {
  let created: K8sObject[];
  let existing: K8sObject[];
  before(async () => {
    [created, existing] = await Promise.all([
      renderChart({ values: { sharedData: { enabled: true, storageClass: 'nfs', size: '50Gi' } } }),
      renderChart({ values: { sharedData: { enabled: true, existingClaim: 'datasets' } } }),
    ]);
  });

  it('passes every common check', () => {
    checkRelease(created, DEFAULT_EXPECTED);
    checkRelease(existing, DEFAULT_EXPECTED);
  });

  it('creates a ReadWriteMany claim that uninstall keeps', () => {
    const claim = findObject<IPersistentVolumeClaim>(created, 'PersistentVolumeClaim', 'weft-data');
    assert.deepEqual(claim.spec?.accessModes, ['ReadWriteMany']);
    assert.equal(claim.spec?.storageClassName, 'nfs');
    assert.equal(claim.spec?.resources?.requests?.['storage'], '50Gi');
    assert.equal(claim.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(objectsOfKind(existing, 'PersistentVolumeClaim').length, 0, 'an existing claim is not created');
  });

  it('mounts it read-write in workers and read-only in the API, with WEFT_DATA_ROOT', () => {
    for (const [objects, claimName] of [
      [created, 'weft-data'],
      [existing, 'datasets'],
    ] as const) {
      for (const [name, container, readOnly] of [
        ['weft-api', 'api', true],
        ['weft-worker-default', 'worker', false],
      ] as const) {
        const spec = deployment(objects, name).spec?.template.spec;
        const volume = spec?.volumes?.find((v) => v.persistentVolumeClaim !== undefined);
        assert.equal(volume?.persistentVolumeClaim?.claimName, claimName, `${name} uses claim ${claimName}`);
        const main = containerOf(deployment(objects, name), container);
        const mount = main.volumeMounts?.find((m) => m.name === volume?.name);
        assert.equal(mount?.mountPath, '/data');
        assert.equal(mount?.readOnly ?? false, readOnly, `${name} mounts /data ${readOnly ? 'read-only' : 'read-write'}`);
        assert.equal(envValue(main, 'WEFT_DATA_ROOT'), '/data');
      }
    }
  });
});

describe('chart: ingress', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart({
      values: {
        api: {
          ingress: {
            enabled: true,
            className: 'nginx',
            hosts: [{ host: 'jobs.example.org', paths: [{ path: '/', pathType: 'Prefix' }] }],
            tls: [{ secretName: 'jobs-tls', hosts: ['jobs.example.org'] }],
          },
        },
      },
    });
  });

  it('routes the host to the API Service', () => {
    checkRelease(objects, DEFAULT_EXPECTED);
    const ingress = findObject<IIngress>(objects, 'Ingress', 'weft-api');
    assert.equal(ingress.spec?.ingressClassName, 'nginx');
    const rule = ingress.spec?.rules?.[0];
    assert.equal(rule?.host, 'jobs.example.org');
    assert.deepEqual(rule?.http?.paths[0]?.backend.service, { name: 'weft-api', port: { number: 8080 } });
    assert.deepEqual(ingress.spec?.tls, [{ secretName: 'jobs-tls', hosts: ['jobs.example.org'] }]);
  });
});

describe('chart: NATS credentials', { timeout: TEST_TIMEOUT_MS }, () => {
  let password: K8sObject[];
  let token: K8sObject[];
  let existing: K8sObject[];
  before(async () => {
    [password, token, existing] = await Promise.all([
      renderChart({ values: { nats: { auth: { enabled: true } } } }),
      renderChart({ values: { nats: { auth: { enabled: true, mode: 'token', token: 'Tok3nTok3nTok3n' } } } }),
      renderChart({ values: { nats: { auth: { enabled: true, existingSecret: 'my-nats-creds' } } } }),
    ]);
  });

  it('passes every common check', () => {
    for (const objects of [password, token, existing]) checkRelease(objects, DEFAULT_EXPECTED);
  });

  it('generates a password the chart’s NATS config can read', () => {
    const secret = findObject<ISecret>(password, 'Secret', 'weft-nats-auth');
    const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.equal(decoded['user'], 'weft');
    assert.match(decoded['password'] ?? '', /^[A-Za-z][A-Za-z0-9]{15,}$/);
    const config = findObject<IConfigMap>(password, 'ConfigMap', 'weft-nats').data?.['nats.conf'] ?? '';
    assert.match(config, /authorization \{\s*user: \$WEFT_NATS_USER\s*password: \$WEFT_NATS_PASSWORD\s*\}/);
  });

  it('hands the same Secret to the API, the workers and NATS', () => {
    for (const [objects, secretName, keys] of [
      [password, 'weft-nats-auth', { WEFT_NATS_USER: 'user', WEFT_NATS_PASSWORD: 'password' }],
      [token, 'weft-nats-auth', { WEFT_NATS_TOKEN: 'token' }],
      [existing, 'my-nats-creds', { WEFT_NATS_USER: 'user', WEFT_NATS_PASSWORD: 'password' }],
    ] as const) {
      const containers = [
        containerOf(deployment(objects, 'weft-api'), 'api'),
        containerOf(deployment(objects, 'weft-worker-default'), 'worker'),
        containerOf(findObject<IStatefulSet>(objects, 'StatefulSet', 'weft-nats'), 'nats'),
      ];
      for (const container of containers) {
        const env = envOf(container);
        for (const [variable, key] of Object.entries(keys)) {
          assert.deepEqual(env.get(variable)?.valueFrom, { secretKeyRef: { name: secretName, key } }, `${container.name}: ${variable}`);
        }
        assert.equal([...env.keys()].filter((k) => k.startsWith('WEFT_NATS_') && k !== 'WEFT_NATS_URL').length, Object.keys(keys).length);
      }
    }
    assert.equal(objectsOfKind(existing, 'Secret').length, 0, 'an existing Secret is not created');
    const tokenSecret = findObject<ISecret>(token, 'Secret', 'weft-nats-auth');
    assert.equal(Buffer.from(tokenSecret.data?.['token'] ?? '', 'base64').toString(), 'Tok3nTok3nTok3n');
  });
});

describe('chart: network policy', { timeout: TEST_TIMEOUT_MS }, () => {
  let objects: K8sObject[];
  before(async () => {
    objects = await renderChart({
      values: {
        networkPolicy: { enabled: true },
        workers: { defaults: { autoscaling: { enabled: false }, keda: { enabled: true } } },
      },
    });
  });

  it('lets only the release’s API and workers reach NATS, and KEDA its monitoring port', () => {
    const policy = findObject<INetworkPolicy>(objects, 'NetworkPolicy', 'weft-nats');
    const nats = findObject<IStatefulSet>(objects, 'StatefulSet', 'weft-nats');
    assert.ok(selects(policy.spec?.podSelector?.matchLabels ?? {}, nats.spec?.template.metadata?.labels ?? {}));
    const [weft, keda] = policy.spec?.ingress ?? [];
    const peer = weft?.from?.[0]?.podSelector;
    assert.deepEqual(peer?.matchLabels, { 'app.kubernetes.io/name': 'weft', 'app.kubernetes.io/instance': 'weft' });
    assert.deepEqual(peer?.matchExpressions, [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['api', 'worker'] }]);
    assert.deepEqual(keda?.from?.[0]?.namespaceSelector?.matchLabels, { 'kubernetes.io/metadata.name': 'keda' });
    assert.deepEqual(keda?.ports?.map((p) => p.port), ['monitor']);
  });
});

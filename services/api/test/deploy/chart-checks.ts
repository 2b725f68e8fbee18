/**
 * Assertions every rendering of the chart must pass, whatever the values: schemas,
 * labels and selectors, hardened pods, probes, resources, the worker pools'
 * Deployments and autoscalers, the API's RBAC and its environment.
 */
import assert from 'node:assert/strict';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { kubernetesRbacRulesFor } from '../../src/index.js';
import { findObject, objectsOfKind, type K8sObject } from './helm.js';
import { validateK8sObject } from './k8s-schemas.js';

/** What a scenario expects of one worker pool; written by hand, independently of the chart. */
export interface ExpectedPool {
  readonly pool: string;
  readonly deployment: string;
  readonly autoscaler: 'hpa' | 'keda' | 'none';
  /** The HorizontalPodAutoscaler scaling the pool (for KEDA: keda-hpa-<ScaledObject name>). */
  readonly hpa?: string;
  readonly queues: readonly string[];
  /** spec.replicas when autoscaler is "none". */
  readonly replicas?: number;
  /** WEFT_THREADS, when the pool sets it. */
  readonly threads?: number;
}

/** What a scenario expects of the whole release. */
export interface Expected {
  readonly release: string;
  readonly namespace: string;
  /** Name prefix of every object (the chart's fullname). */
  readonly fullname: string;
  readonly prefix: string;
  readonly natsUrl: string;
  readonly pools: readonly ExpectedPool[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

type Workload = IDeployment | IStatefulSet;

function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind)) as unknown as Workload[];
}

function nameOf(object: { metadata?: { name?: string } }): string {
  return object.metadata?.name ?? '(no name)';
}

function podLabels(workload: Workload): Record<string, string> {
  return workload.spec?.template.metadata?.labels ?? {};
}

function podSpec(workload: Workload): IPodSpec {
  const spec = workload.spec?.template.spec;
  assert.ok(spec, `${nameOf(workload)} has a pod spec`);
  return spec;
}

/** Whether every label of `selector` is among `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** The containers of a pod spec, init containers included. */
function allContainers(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** A container's environment as a map from name to variable. */
export function envOf(container: IContainer): Map<string, IEnvVar> {
  return new Map((container.env ?? []).map((variable) => [variable.name, variable]));
}

/** The value of a plain (not valueFrom) environment variable. */
export function envValue(container: IContainer, name: string): string | undefined {
  return envOf(container).get(name)?.value;
}

/** The one container named `name` of a workload. */
export function containerOf(workload: Workload, name: string): IContainer {
  const container = podSpec(workload).containers.find((c) => c.name === name);
  assert.ok(container, `${nameOf(workload)} has a container named ${name}`);
  return container;
}

/** Every object matches the Kubernetes (or KEDA) schema of its kind and sits in the release's namespace. */
export function checkSchemasAndNamespaces(objects: readonly K8sObject[], expected: Expected): void {
  assert.ok(objects.length > 0, 'the chart renders objects');
  for (const object of objects) {
    validateK8sObject(object);
    assert.equal(object.metadata.namespace, expected.namespace, `${object.kind}/${object.metadata.name} namespace`);
    assert.equal(object.metadata.labels?.['app.kubernetes.io/instance'], expected.release, `${object.kind}/${object.metadata.name} instance label`);
    assert.ok(object.metadata.name.startsWith(expected.fullname) || object.metadata.name.startsWith(`keda-hpa-${expected.fullname}`), `${object.kind}/${object.metadata.name} is named after the release`);
  }
}

/** Selectors select their pods: Deployment and StatefulSet selectors, Services, PodDisruptionBudgets. */
export function checkSelectors(objects: readonly K8sObject[]): void {
  const all = workloads(objects);
  for (const workload of all) {
    const selector = workload.spec?.selector.matchLabels ?? {};
    assert.ok(Object.keys(selector).length >= 3, `${nameOf(workload)} selects by name, instance and component`);
    assert.ok(selects(selector, podLabels(workload)), `${nameOf(workload)}: selector ${JSON.stringify(selector)} is within its pod labels ${JSON.stringify(podLabels(workload))}`);
    const overlapping = all.filter((other) => other !== workload && selects(selector, podLabels(other)));
    assert.deepEqual(overlapping.map(nameOf), [], `${nameOf(workload)}'s selector matches no other workload's pods`);
  }
  for (const service of objectsOfKind<IService>(objects, 'Service')) {
    const selector = service.spec?.selector ?? {};
    const targets = all.filter((w) => selects(selector, podLabels(w)));
    assert.equal(targets.length, 1, `Service ${nameOf(service)} selects the pods of exactly one workload`);
    const [target] = targets;
    assert.ok(target);
    const portNames = new Set(allContainers(podSpec(target)).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const port of service.spec?.ports ?? []) {
      assert.ok(typeof port.targetPort === 'string' && portNames.has(port.targetPort), `Service ${nameOf(service)} targets a named port of ${nameOf(target)}`);
    }
  }
  for (const budget of objectsOfKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
    const selector = budget.spec?.selector?.matchLabels ?? {};
    const targets = all.filter((w) => selects(selector, podLabels(w)));
    assert.equal(targets.length, 1, `PodDisruptionBudget ${nameOf(budget)} covers the pods of exactly one workload`);
  }
}

/** Pods run hardened: non-root 10001, RuntimeDefault seccomp, read-only root, no privileges, resources, /tmp. */
export function checkPodHardening(objects: readonly K8sObject[]): void {
  for (const workload of workloads(objects)) {
    const spec = podSpec(workload);
    const where = nameOf(workload);
    assert.equal(spec.securityContext?.runAsNonRoot, true, `${where}: pod runAsNonRoot`);
    assert.equal(spec.securityContext?.runAsUser, 10001, `${where}: pod runAsUser`);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: pod seccompProfile`);
    for (const container of allContainers(spec)) {
      const at = `${where}/${container.name}`;
      const context = container.securityContext;
      assert.equal(context?.runAsNonRoot, true, `${at}: runAsNonRoot`);
      assert.equal(context?.runAsUser, 10001, `${at}: runAsUser`);
      assert.equal(context?.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
      assert.equal(context?.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
      assert.deepEqual(context?.capabilities?.drop, ['ALL'], `${at}: capabilities drop ALL`);
      assert.equal(context?.seccompProfile?.type, 'RuntimeDefault', `${at}: seccompProfile`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          assert.ok(container.resources?.[kind]?.[resource] !== undefined, `${at}: resources.${kind}.${resource} is set`);
        }
      }
    }
    const component = podLabels(workload)['app.kubernetes.io/component'];
    if (component === 'api' || component === 'worker') {
      const tmp = spec.volumes?.find((v) => v.name === 'tmp');
      assert.ok(tmp?.emptyDir, `${where}: an emptyDir volume for /tmp`);
      for (const container of spec.containers) {
        assert.ok(container.volumeMounts?.some((m) => m.name === 'tmp' && m.mountPath === '/tmp'), `${where}/${container.name} mounts /tmp`);
      }
    }
  }
}

function probePort(workload: Workload, container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((p) => p.name === port);
  assert.ok(named, `${nameOf(workload)}/${container.name} has a port named ${String(port)}`);
  return named.containerPort;
}

/** HTTP probes of `container`: readiness on /readyz and liveness on /healthz, both on `port`. */
function checkHttpProbes(workload: Workload, container: IContainer, port: number): void {
  const at = `${nameOf(workload)}/${container.name}`;
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz', `${at}: readiness probe path`);
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz', `${at}: liveness probe path`);
  assert.equal(probePort(workload, container, container.readinessProbe?.httpGet?.port), port, `${at}: readiness probe port`);
  assert.equal(probePort(workload, container, container.livenessProbe?.httpGet?.port), port, `${at}: liveness probe port`);
}

/** The API Deployment: probes on 8080, its environment contract, token, service. */
export function checkApi(objects: readonly K8sObject[], expected: Expected): void {
  const name = `${expected.fullname}-api`;
  const deployment = findObject<IDeployment>(objects, 'Deployment', name);
  const labels = podLabels(deployment);
  assert.equal(labels['app.kubernetes.io/component'], 'api');
  assert.equal(labels['app.kubernetes.io/name'], 'weft');
  assert.equal(labels['app.kubernetes.io/instance'], expected.release);
  const api = containerOf(deployment, 'api');
  checkHttpProbes(deployment, api, 8080);
  assert.equal(podSpec(deployment).automountServiceAccountToken, true, 'the API gets a service account token');
  assert.equal(podSpec(deployment).serviceAccountName, name);

  assert.equal(envValue(api, 'WEFT_NATS_URL'), expected.natsUrl);
  assert.equal(envValue(api, 'WEFT_PREFIX'), expected.prefix);
  assert.equal(envValue(api, 'WEFT_API_HOST'), '0.0.0.0');
  assert.equal(envValue(api, 'WEFT_API_PORT'), '8080');
  assert.match(envValue(api, 'WEFT_BODY_LIMIT_BYTES') ?? '', /^[0-9]+$/);
  assert.match(envValue(api, 'WEFT_MAX_WAIT_MS') ?? '', /^[0-9]+$/);
  assert.deepEqual(envOf(api).get('WEFT_K8S_NAMESPACE')?.valueFrom, { fieldRef: { fieldPath: 'metadata.namespace' } });
  assert.equal(
    envValue(api, 'WEFT_K8S_WORKER_SELECTOR'),
    `app.kubernetes.io/instance=${expected.release},app.kubernetes.io/component=worker`,
  );
  const pools: unknown = JSON.parse(envValue(api, 'WEFT_K8S_WORKER_POOLS') ?? 'null');
  assert.deepEqual(
    pools,
    expected.pools.map((p) => ({
      pool: p.pool,
      deployment: p.deployment,
      autoscaler: p.autoscaler,
      ...(p.autoscaler === 'none' ? {} : { hpa: p.hpa }),
    })),
    'WEFT_K8S_WORKER_POOLS',
  );

  const service = findObject<IService>(objects, 'Service', name);
  assert.equal(service.spec?.ports?.[0]?.port, 8080);
  assert.equal(service.spec?.ports?.[0]?.targetPort, 'http');
  assert.ok(selects(service.spec?.selector ?? {}, labels), 'the API Service selects the API pods');
}

/** The worker Deployments, their autoscalers and PodDisruptionBudgets, one set per expected pool. */
export function checkWorkers(objects: readonly K8sObject[], expected: Expected): void {
  const deployments = objectsOfKind<IDeployment>(objects, 'Deployment').filter(
    (d) => podLabels(d)['app.kubernetes.io/component'] === 'worker',
  );
  assert.deepEqual(deployments.map(nameOf).sort(), expected.pools.map((p) => p.deployment).sort(), 'one worker Deployment per pool');
  const hpas = objectsOfKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
  const scaledObjects = objectsOfKind<IScaledObject>(objects, 'ScaledObject');
  assert.deepEqual(hpas.map(nameOf).sort(), expected.pools.filter((p) => p.autoscaler === 'hpa').map((p) => p.hpa).sort());
  assert.deepEqual(scaledObjects.map(nameOf).sort(), expected.pools.filter((p) => p.autoscaler === 'keda').map((p) => p.deployment).sort());

  for (const pool of expected.pools) {
    const deployment = findObject<IDeployment>(objects, 'Deployment', pool.deployment);
    const labels = podLabels(deployment);
    assert.deepEqual(
      {
        name: labels['app.kubernetes.io/name'],
        instance: labels['app.kubernetes.io/instance'],
        component: labels['app.kubernetes.io/component'],
        pool: labels['weft.io/pool'],
      },
      { name: 'weft', instance: expected.release, component: 'worker', pool: pool.pool },
      `${pool.deployment} pod labels`,
    );
    const spec = podSpec(deployment);
    assert.equal(spec.automountServiceAccountToken, false, `${pool.deployment}: no service account token`);
    const worker = containerOf(deployment, 'worker');
    assert.equal(envValue(worker, 'WEFT_HEALTH_PORT'), '9090');
    checkHttpProbes(deployment, worker, 9090);
    assert.equal(envValue(worker, 'WEFT_QUEUES'), pool.queues.join(','), `${pool.deployment}: WEFT_QUEUES`);
    assert.equal(envValue(worker, 'WEFT_THREADS'), pool.threads === undefined ? undefined : String(pool.threads), `${pool.deployment}: WEFT_THREADS`);
    assert.deepEqual(envOf(worker).get('WEFT_WORKER_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.equal(envValue(worker, 'WEFT_NATS_URL'), expected.natsUrl);
    assert.equal(envValue(worker, 'WEFT_PREFIX'), expected.prefix);
    const drainMs = Number(envValue(worker, 'WEFT_DRAIN_TIMEOUT_MS'));
    assert.equal(drainMs, 25_000);
    assert.equal(spec.terminationGracePeriodSeconds, 45);
    assert.ok((spec.terminationGracePeriodSeconds ?? 30) * 1000 >= drainMs + 5000, 'the grace period covers the drain');
    assert.ok(worker.resources?.requests?.['cpu'] !== undefined, 'CPU requests are set, so CPU utilization can be measured');

    if (pool.autoscaler === 'none') {
      assert.equal(deployment.spec?.replicas, pool.replicas, `${pool.deployment}: spec.replicas`);
    } else {
      assert.equal(deployment.spec?.replicas, undefined, `${pool.deployment}: no spec.replicas while an autoscaler owns it`);
    }
    if (pool.autoscaler === 'hpa') {
      const hpa = findObject<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler', pool.hpa ?? '');
      assert.deepEqual(hpa.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: pool.deployment });
      const metric = hpa.spec?.metrics?.[0];
      assert.equal(metric?.type, 'Resource');
      assert.equal(metric?.resource?.name, 'cpu');
      assert.equal(metric?.resource?.target.type, 'Utilization');
      assert.ok((hpa.spec?.minReplicas ?? 0) <= (hpa.spec?.maxReplicas ?? 0));
    }
    if (pool.autoscaler === 'keda') {
      const scaled = findObject<IScaledObject>(objects, 'ScaledObject', pool.deployment);
      assert.equal(pool.hpa, `keda-hpa-${nameOf(scaled)}`, 'KEDA names its HPA keda-hpa-<ScaledObject>');
      assert.equal(scaled.spec.scaleTargetRef.name, pool.deployment);
      assert.deepEqual(
        scaled.spec.triggers.map((t) => ({ type: t.type, stream: t.metadata['stream'], consumer: t.metadata['consumer'], account: t.metadata['account'] })),
        pool.queues.map((queue) => ({ type: 'nats-jetstream', stream: `${expected.prefix}-tasks`, consumer: `${expected.prefix}-q-${queue}`, account: '$G' })),
      );
    }
    const budget = findObject<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', pool.deployment);
    assert.ok(selects(budget.spec?.selector?.matchLabels ?? {}, labels), `${pool.deployment}: its PodDisruptionBudget covers its pods`);
  }
}

/** The API's Role: exactly the rules the API needs, naming this release's Deployments and autoscalers. */
export function checkRbac(objects: readonly K8sObject[], expected: Expected): void {
  const name = `${expected.fullname}-api`;
  const role = findObject<IRole>(objects, 'Role', name);
  // Exactly what the API's Kubernetes client calls, for this release's pools.
  const rules = kubernetesRbacRulesFor(expected.pools.map((p) => ({ deployment: p.deployment, ...(p.autoscaler === 'none' ? {} : { hpa: p.hpa }) })));
  assert.deepEqual(role.rules, JSON.parse(JSON.stringify(rules)), 'the API Role has exactly the rules the API code needs');
  const binding = findObject<K8sObject>(objects, 'RoleBinding', name);
  assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
  assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name, namespace: expected.namespace }]);
  assert.equal(objectsOfKind(objects, 'ClusterRole').length, 0, 'no cluster-wide permissions');
  assert.equal(objectsOfKind(objects, 'ClusterRoleBinding').length, 0, 'no cluster-wide permissions');
}

/** Every check above. */
export function checkRelease(objects: readonly K8sObject[], expected: Expected): void {
  checkSchemasAndNamespaces(objects, expected);
  checkSelectors(objects);
  checkPodHardening(objects);
  checkApi(objects, expected);
  checkWorkers(objects, expected);
  checkRbac(objects, expected);
}

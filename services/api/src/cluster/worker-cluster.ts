/**
 * The worker pools and pods on Kubernetes: what `GET /v1/workers` shows next to the
 * live workers, and scaling a pool by hand (`PUT /v1/workers/:pool/replicas`).
 */
import type { ApiConfig, Logger, WorkerHeartbeat, WorkerPool } from '@weft/shared';
import type { ClusterView, PoolAutoscalerView, PoolScale, WorkerPodView, WorkerPoolView } from '../schemas.js';
import type { ClusterAccess } from './cluster-access.js';
import {
  ClusterUnavailableError,
  KubernetesError,
  PoolAutoscaledError,
  PoolDeploymentNotFoundError,
  PoolNotFoundError,
} from './cluster-errors.js';
import type { KubeClient, PodState } from './kube-client.js';

/** How long a read of the cluster is reused, in milliseconds. */
export const CLUSTER_CACHE_MS = 2000;

/** Pods and pools as read from the cluster, before live workers are matched to pods. */
interface Snapshot {
  readonly pools: WorkerPoolView[];
  readonly pods: PodState[];
}

/** What {@link WorkerCluster} needs from the configuration. */
export type WorkerClusterConfig = Pick<ApiConfig, 'k8sWorkerPools' | 'k8sWorkerSelector'>;

/**
 * Worker pools and pods of one Weft release. Reads are cached for
 * {@link CLUSTER_CACHE_MS} and shared by concurrent requests; scaling clears the cache.
 */
export class WorkerCluster {
  private cached: { readonly at: number; readonly snapshot: Promise<Snapshot> } | undefined;

  constructor(
    private readonly access: ClusterAccess,
    private readonly config: WorkerClusterConfig,
    private readonly log: Logger,
    private readonly cacheMs = CLUSTER_CACHE_MS,
  ) {}

  /**
   * The cluster section of `GET /v1/workers`, with each pod's live workers. A failing
   * Kubernetes API does not fail the request: the section says so.
   */
  async view(live: readonly WorkerHeartbeat[]): Promise<ClusterView> {
    const { access } = this;
    if (!access.available) return { status: 'unavailable', reason: access.reason };
    const { namespace } = access.client;
    try {
      const { pools, pods } = await this.snapshot(access.client);
      return { status: 'ok', namespace, pools, pods: pods.map((pod) => podView(pod, live)) };
    } catch (err) {
      if (!(err instanceof KubernetesError)) throw err;
      this.log.warn({ err, code: err.code }, 'cannot read the worker pods and pools');
      return { status: 'error', namespace, code: err.code, detail: err.publicDetail };
    }
  }

  /**
   * Sets the replica count of a pool that is scaled by hand.
   * @throws ClusterUnavailableError, PoolNotFoundError, PoolAutoscaledError,
   *   PoolDeploymentNotFoundError, or a KubernetesError
   */
  async scale(poolName: string, replicas: number): Promise<PoolScale> {
    const { access } = this;
    if (!access.available) throw new ClusterUnavailableError(access.reason);
    const pool = this.pool(poolName);
    if (pool.autoscaler !== 'none') throw new PoolAutoscaledError(pool.pool, pool.autoscaler, pool.hpa ?? '');
    const { client } = access;
    const scale = await client.patchScale(pool.deployment, replicas);
    if (scale === undefined) throw new PoolDeploymentNotFoundError(pool.pool, pool.deployment, client.namespace);
    // Reads that started before the change are not reused.
    this.cached = undefined;
    return { pool: pool.pool, namespace: client.namespace, deployment: pool.deployment, replicas: scale };
  }

  private pool(name: string): Readonly<WorkerPool> {
    const pools = this.config.k8sWorkerPools;
    const pool = pools.find((p) => p.pool === name);
    if (pool === undefined) throw new PoolNotFoundError(name, pools.map((p) => p.pool));
    return pool;
  }

  private snapshot(client: KubeClient): Promise<Snapshot> {
    const now = Date.now();
    if (this.cached !== undefined && now - this.cached.at < this.cacheMs) return this.cached.snapshot;
    const snapshot = readSnapshot(client, this.config);
    const entry = { at: now, snapshot };
    this.cached = entry;
    // A failed read is not reused.
    snapshot.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return snapshot;
  }
}

async function readSnapshot(client: KubeClient, config: WorkerClusterConfig): Promise<Snapshot> {
  const [pods, pools] = await Promise.all([
    client.listPods(config.k8sWorkerSelector),
    Promise.all(config.k8sWorkerPools.map((pool) => poolView(client, pool))),
  ]);
  pods.sort((a, b) => (a.pool ?? '').localeCompare(b.pool ?? '') || a.name.localeCompare(b.name));
  return { pools, pods };
}

async function poolView(client: KubeClient, pool: Readonly<WorkerPool>): Promise<WorkerPoolView> {
  const [scale, autoscaler] = await Promise.all([client.readScale(pool.deployment), autoscalerView(client, pool)]);
  return { pool: pool.pool, deployment: pool.deployment, replicas: scale ?? null, autoscaler };
}

async function autoscalerView(client: KubeClient, pool: Readonly<WorkerPool>): Promise<PoolAutoscalerView> {
  if (pool.autoscaler === 'none' || pool.hpa === undefined) return { kind: 'none' };
  const hpa = await client.readHpa(pool.hpa);
  return {
    kind: pool.autoscaler,
    hpa: pool.hpa,
    found: hpa !== undefined,
    minReplicas: hpa?.minReplicas ?? null,
    maxReplicas: hpa?.maxReplicas ?? null,
    currentReplicas: hpa?.currentReplicas ?? null,
    desiredReplicas: hpa?.desiredReplicas ?? null,
  };
}

function podView(pod: PodState, live: readonly WorkerHeartbeat[]): WorkerPodView {
  const workers = live.filter((worker) => worker.host === pod.name).map((worker) => worker.id);
  return { ...pod, workers };
}

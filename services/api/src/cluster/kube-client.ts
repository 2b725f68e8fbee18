/**
 * The API's only door to the Kubernetes API: four calls, each needing one of the
 * permissions in `rbac-rules.ts`, with answers reduced to the few fields Weft shows
 * and failures turned into Weft errors. `@kubernetes/client-node` is loaded only when
 * a cluster is configured, so running outside one costs nothing.
 */
import type {
  AppsV1Api,
  AutoscalingV2Api,
  ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  ObservableMiddleware,
  V1Pod,
  V1Scale,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type * as KubernetesClient from '@kubernetes/client-node';
import { API_ENV, ConfigError } from '@weft/shared';
import { KubernetesApiError, KubernetesForbiddenError } from './cluster-errors.js';
import {
  GET_DEPLOYMENT_SCALE,
  GET_HPA,
  LIST_PODS,
  PATCH_DEPLOYMENT_SCALE,
  type KubernetesPermission,
} from './rbac-rules.js';

/** The client library's module, loaded on demand. */
type ClientLibrary = typeof KubernetesClient;

/** Label carrying a worker pod's pool. */
export const POOL_LABEL = 'weft.io/pool';

/** Namespace used when neither the configuration nor the kubeconfig context names one. */
const FALLBACK_NAMESPACE = 'default';

/** A worker pod, as far as Weft shows it. */
export interface PodState {
  readonly name: string;
  /** Its `weft.io/pool` label. */
  readonly pool: string | null;
  /** `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`. */
  readonly phase: string;
  /** Its `Ready` condition is true. */
  readonly ready: boolean;
  /** Restarts of its containers, summed. */
  readonly restarts: number;
  /** Node it is scheduled on. */
  readonly node: string | null;
  /** When the kubelet started it (ISO 8601). */
  readonly startedAt: string | null;
  /** It is being deleted. */
  readonly terminating: boolean;
}

/** Replica counts of a Deployment, from its scale subresource. */
export interface ScaleState {
  /** `spec.replicas`: what the Deployment is asked to run. */
  readonly desired: number;
  /** `status.replicas`: pods it runs now. */
  readonly current: number;
}

/** What a HorizontalPodAutoscaler says about its target. */
export interface HpaState {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly currentReplicas: number | null;
  readonly desiredReplicas: number | null;
}

/** How {@link KubeClient.connect} reaches the cluster. */
export interface KubeClientOptions {
  /** Kubeconfig file; without it, the pod's service account (in-cluster access). */
  readonly kubeconfigPath?: string;
  /** Prefix of the service account files' paths in cluster, for tests. @default "" */
  readonly inClusterPathPrefix?: string;
  /** Namespace to work in. @default the kubeconfig context's (in cluster: the service account's), else "default" */
  readonly namespace?: string;
  /** Longest wait for one answer, in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
}

const isoTime = (value: Date | string | undefined): string | null =>
  value === undefined ? null : value instanceof Date ? value.toISOString() : value;

function podState(pod: V1Pod): PodState {
  const { metadata, spec, status } = pod;
  return {
    name: metadata?.name ?? '',
    pool: metadata?.labels?.[POOL_LABEL] ?? null,
    phase: status?.phase ?? 'Unknown',
    ready: status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    restarts: (status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
    node: spec?.nodeName ?? null,
    startedAt: isoTime(status?.startTime),
    terminating: metadata?.deletionTimestamp !== undefined,
  };
}

const scaleState = (scale: V1Scale): ScaleState => ({
  desired: scale.spec?.replicas ?? 0,
  current: scale.status?.replicas ?? 0,
});

const hpaState = (hpa: V2HorizontalPodAutoscaler): HpaState => ({
  minReplicas: hpa.spec?.minReplicas ?? 1,
  maxReplicas: hpa.spec?.maxReplicas ?? 0,
  currentReplicas: hpa.status?.currentReplicas ?? null,
  desiredReplicas: hpa.status?.desiredReplicas ?? null,
});

/** The calls the API makes to the Kubernetes API, in one namespace. */
export class KubeClient {
  private constructor(
    private readonly lib: ClientLibrary,
    private readonly core: CoreV1Api,
    private readonly apps: AppsV1Api,
    private readonly autoscaling: AutoscalingV2Api,
    /** Namespace of every call. */
    readonly namespace: string,
    /** Where the client connects, for logs. */
    readonly server: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Loads the client library and the credentials: the kubeconfig file when given,
   * else the pod's service account. Makes no call yet.
   * @throws ConfigError naming WEFT_K8S_KUBECONFIG when the file cannot be used
   */
  static async connect(options: KubeClientOptions): Promise<KubeClient> {
    const lib = await import('@kubernetes/client-node');
    const kc = new lib.KubeConfig();
    if (options.kubeconfigPath === undefined) {
      // Also reads the service account's namespace into the context.
      kc.loadFromCluster(options.inClusterPathPrefix);
    } else {
      loadKubeconfig(kc, options.kubeconfigPath);
    }
    const cluster = kc.getCurrentCluster();
    if (cluster === null) {
      throw new ConfigError([{ pointer: API_ENV.k8sKubeconfig, message: 'the current context names no cluster' }]);
    }
    const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace?.trim();
    const namespace = options.namespace ?? (contextNamespace || FALLBACK_NAMESPACE);
    return new KubeClient(
      lib,
      kc.makeApiClient(lib.CoreV1Api),
      kc.makeApiClient(lib.AppsV1Api),
      kc.makeApiClient(lib.AutoscalingV2Api),
      namespace,
      cluster.server,
      options.timeoutMs ?? 10_000,
    );
  }

  /** The pods matching `labelSelector`. Needs {@link LIST_PODS}. */
  async listPods(labelSelector: string): Promise<PodState[]> {
    const { namespace } = this;
    const list = await this.call(LIST_PODS, `pods matching "${labelSelector}"`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }, this.options()),
    );
    return (list?.items ?? []).map(podState);
  }

  /** The replica counts of a Deployment; undefined when it does not exist. Needs {@link GET_DEPLOYMENT_SCALE}. */
  async readScale(deployment: string): Promise<ScaleState | undefined> {
    const { namespace } = this;
    const scale = await this.call(GET_DEPLOYMENT_SCALE, `Deployment "${deployment}"`, () =>
      this.apps.readNamespacedDeploymentScale({ name: deployment, namespace }, this.options()),
    );
    return scale && scaleState(scale);
  }

  /**
   * Sets a Deployment's replica count with a JSON merge patch of its scale
   * subresource; undefined when it does not exist. Needs {@link PATCH_DEPLOYMENT_SCALE}.
   */
  async patchScale(deployment: string, replicas: number): Promise<ScaleState | undefined> {
    const { namespace } = this;
    // Generated patch methods default to a JSON Patch content type; a merge patch is a plain object.
    const options = this.lib.setHeaderOptions('Content-Type', this.lib.PatchStrategy.MergePatch, this.options());
    const scale = await this.call(PATCH_DEPLOYMENT_SCALE, `Deployment "${deployment}"`, () =>
      this.apps.patchNamespacedDeploymentScale({ name: deployment, namespace, body: { spec: { replicas } } }, options),
    );
    return scale && scaleState(scale);
  }

  /** A HorizontalPodAutoscaler; undefined when it does not exist. Needs {@link GET_HPA}. */
  async readHpa(name: string): Promise<HpaState | undefined> {
    const { namespace } = this;
    const hpa = await this.call(GET_HPA, `HorizontalPodAutoscaler "${name}"`, () =>
      this.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace }, this.options()),
    );
    return hpa && hpaState(hpa);
  }

  /** Per-call options: a deadline for the answer. */
  private options(): ConfigurationOptions<ObservableMiddleware> {
    const { Observable } = this.lib;
    const timeoutMs = this.timeoutMs;
    const deadline: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return new Observable(Promise.resolve(context));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    };
    return { middleware: [deadline], middlewareMergeStrategy: 'append' };
  }

  /** Runs one call; a 404 answer becomes undefined, other failures Weft errors. */
  private async call<T>(permission: KubernetesPermission, what: string, request: () => Promise<T>): Promise<T | undefined> {
    const target = `${what} in namespace "${this.namespace}"`;
    try {
      return await request();
    } catch (err) {
      const status = err instanceof this.lib.ApiException ? err.code : undefined;
      if (status === 404) return undefined;
      if (status === 403) throw new KubernetesForbiddenError(permission, target, { cause: err });
      throw new KubernetesApiError(permission, target, status, { cause: err });
    }
  }
}

function loadKubeconfig(kc: KubeConfig, path: string): void {
  try {
    kc.loadFromFile(path);
  } catch (err) {
    const message = `cannot load the kubeconfig: ${(err as Error).message}`;
    throw new ConfigError([{ pointer: API_ENV.k8sKubeconfig, message }]);
  }
}

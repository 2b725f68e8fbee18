/**
 * Errors of the cluster endpoints (`GET /v1/workers`'s cluster section and
 * `PUT /v1/workers/:pool/replicas`). Their HTTP statuses are assigned in
 * `api-errors.ts`, like every other error's.
 */
import { WeftError, type PoolAutoscalerKind } from '@weft/shared';
import { describePermission, type KubernetesPermission } from './rbac-rules.js';

/** No Kubernetes cluster is available: the API runs outside one and has no kubeconfig. */
export class ClusterUnavailableError extends WeftError {
  readonly code = 'CLUSTER_UNAVAILABLE';
  constructor(readonly reason: string) {
    super(`no Kubernetes cluster is available: ${reason}`);
  }
}

/** The request names a worker pool the API is not configured with. */
export class PoolNotFoundError extends WeftError {
  readonly code = 'POOL_NOT_FOUND';
  constructor(
    readonly pool: string,
    readonly known: readonly string[],
  ) {
    const list = known.length === 0 ? 'none are configured (WEFT_K8S_WORKER_POOLS)' : `known pools: ${known.join(', ')}`;
    super(`unknown worker pool "${pool}"; ${list}`);
  }
}

/** The pool's replica count belongs to an autoscaler; scaling it by hand would be undone. */
export class PoolAutoscaledError extends WeftError {
  readonly code = 'POOL_AUTOSCALED';
  constructor(
    readonly pool: string,
    readonly autoscaler: Exclude<PoolAutoscalerKind, 'none'>,
    readonly hpa: string,
  ) {
    const owner =
      autoscaler === 'keda'
        ? `KEDA (through the HorizontalPodAutoscaler "${hpa}"); change the ScaledObject's minReplicaCount and maxReplicaCount`
        : `the HorizontalPodAutoscaler "${hpa}"; change its minReplicas and maxReplicas`;
    super(
      `worker pool "${pool}" is scaled by ${owner} (the pool's autoscaling settings in the Helm values), ` +
        'or turn autoscaling off for the pool to set its replicas here',
    );
  }
}

/** The Deployment a configured pool names does not exist. */
export class PoolDeploymentNotFoundError extends WeftError {
  readonly code = 'POOL_DEPLOYMENT_NOT_FOUND';
  constructor(
    readonly pool: string,
    readonly deployment: string,
    readonly namespace: string,
  ) {
    super(`the Deployment "${deployment}" of worker pool "${pool}" does not exist in namespace "${namespace}"`);
  }
}

/**
 * A Kubernetes API call failed. The message, which is logged, has the details;
 * clients see only `publicDetail`.
 */
export abstract class KubernetesError extends WeftError {
  /** What clients are told. */
  abstract readonly publicDetail: string;
}

/** The Kubernetes API denied a call (HTTP 403): the API's Role lacks a permission. */
export class KubernetesForbiddenError extends KubernetesError {
  readonly code = 'KUBERNETES_FORBIDDEN';
  readonly publicDetail =
    "the Kubernetes API denied a request: the Weft API's service account lacks a permission (its log names it)";
  constructor(
    readonly permission: KubernetesPermission,
    target: string,
    options?: { cause?: unknown },
  ) {
    super(`the Kubernetes API denied "${describePermission(permission)}" on ${target}; grant it in the API's Role`, options);
  }
}

/** A Kubernetes API call failed otherwise: unreachable, timed out, or an unexpected answer. */
export class KubernetesApiError extends KubernetesError {
  readonly code = 'KUBERNETES_API_ERROR';
  readonly publicDetail = 'a request to the Kubernetes API failed';
  constructor(
    readonly permission: KubernetesPermission,
    target: string,
    /** The HTTP status the Kubernetes API answered with, when it answered. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    const outcome = status === undefined ? 'got no answer' : `answered ${status}`;
    super(`"${describePermission(permission)}" on ${target}: the Kubernetes API ${outcome}`, options);
  }
}

/**
 * The Kubernetes permissions the API uses, and nothing more. Every call to the
 * Kubernetes API goes through `KubeClient`, whose methods each name the permission
 * they need from this file; the Helm chart's Role grants these rules.
 */
import type { WorkerPool } from '@weft/shared';

/** One verb on one resource: what a single Kubernetes API call needs. */
export interface KubernetesPermission {
  /** API group; `""` is the core group. */
  readonly apiGroup: string;
  /** Resource, with its subresource when there is one (`deployments/scale`). */
  readonly resource: string;
  readonly verb: string;
}

/** A rule of a Kubernetes Role, as in its manifest. */
export interface KubernetesRbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** Object names the rule is limited to; absent means every object of the resource. */
  readonly resourceNames?: readonly string[];
}

/** Listing the worker pods (`GET /v1/workers`). */
export const LIST_PODS: KubernetesPermission = Object.freeze({ apiGroup: '', resource: 'pods', verb: 'list' });

/** Reading a worker Deployment's replica counts (`GET /v1/workers`). */
export const GET_DEPLOYMENT_SCALE: KubernetesPermission = Object.freeze({
  apiGroup: 'apps',
  resource: 'deployments/scale',
  verb: 'get',
});

/** Setting a worker Deployment's replica count (`PUT /v1/workers/:pool/replicas`). */
export const PATCH_DEPLOYMENT_SCALE: KubernetesPermission = Object.freeze({
  apiGroup: 'apps',
  resource: 'deployments/scale',
  verb: 'patch',
});

/** Reading an autoscaled pool's HorizontalPodAutoscaler (`GET /v1/workers`). */
export const GET_HPA: KubernetesPermission = Object.freeze({
  apiGroup: 'autoscaling',
  resource: 'horizontalpodautoscalers',
  verb: 'get',
});

/**
 * The Role rules the API needs in the namespace of the release, without object
 * names: pods `list`; `apps` `deployments/scale` `get` and `patch` (the worker
 * Deployments); `autoscaling` `horizontalpodautoscalers` `get` (the pools' HPAs).
 * See {@link kubernetesRbacRulesFor} for the rules limited to a set of pools.
 */
export const KUBERNETES_RBAC_RULES: readonly KubernetesRbacRule[] = Object.freeze([
  Object.freeze({ apiGroups: [''], resources: ['pods'], verbs: ['list'] }),
  Object.freeze({ apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch'] }),
  Object.freeze({ apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get'] }),
]);

/**
 * {@link KUBERNETES_RBAC_RULES} limited to the objects of `pools`: the scale rule to
 * their Deployments, the HPA rule to their HPAs (left out when no pool is
 * autoscaled, since a rule with no names would cover every HPA).
 */
export function kubernetesRbacRulesFor(pools: readonly Pick<WorkerPool, 'deployment' | 'hpa'>[]): KubernetesRbacRule[] {
  const [pods, scale, hpa] = KUBERNETES_RBAC_RULES as [KubernetesRbacRule, KubernetesRbacRule, KubernetesRbacRule];
  const deployments = [...new Set(pools.map((pool) => pool.deployment))];
  const hpas = [...new Set(pools.flatMap((pool) => (pool.hpa === undefined ? [] : [pool.hpa])))];
  const rules: KubernetesRbacRule[] = [pods];
  if (deployments.length > 0) rules.push({ ...scale, resourceNames: deployments });
  if (hpas.length > 0) rules.push({ ...hpa, resourceNames: hpas });
  return rules;
}

/** `verb group/resource`, for messages: `patch apps/deployments/scale`. */
export function describePermission(permission: KubernetesPermission): string {
  const group = permission.apiGroup === '' ? '' : `${permission.apiGroup}/`;
  return `${permission.verb} ${group}${permission.resource}`;
}

/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas (and KEDA's CRD
 * schemas) that the kubernetes-models packages compile.
 */
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import type { K8sObject } from './helm.js';

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: unknown): { validate(): void };
}

function isModelClass(value: unknown): value is ModelClass {
  if (typeof value !== 'function') return false;
  const candidate = value as unknown as Record<string, unknown>;
  return typeof candidate['apiVersion'] === 'string' && typeof candidate['kind'] === 'string';
}

/** Model classes by `apiVersion/kind`, for every API group the chart may render. */
const MODELS = new Map<string, ModelClass>();
for (const group of [coreV1, appsV1, autoscalingV2, policyV1, rbacV1, networkingV1, kedaV1alpha1]) {
  for (const value of Object.values(group)) {
    if (isModelClass(value)) MODELS.set(`${value.apiVersion}/${value.kind}`, value);
  }
}

/**
 * Checks `object` against the schema of its apiVersion and kind.
 * @throws naming the object and every violation, or when no schema knows its kind
 */
export function validateK8sObject(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS.get(key);
  const name = `${object.kind}/${object.metadata?.name ?? '(no name)'}`;
  if (Model === undefined) throw new Error(`${name}: no schema for ${key}`);
  try {
    new Model(object).validate();
  } catch (err) {
    throw new Error(`${name} does not match the ${key} schema: ${err instanceof Error ? err.message : String(err)}`);
  }
}

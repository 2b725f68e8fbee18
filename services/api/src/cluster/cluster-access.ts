/**
 * Whether, and how, the API reaches a Kubernetes cluster: through the kubeconfig file
 * of `WEFT_K8S_KUBECONFIG` when set (to run the API outside the cluster), else in
 * cluster, with the pod's service account, when Kubernetes set
 * `KUBERNETES_SERVICE_HOST` and mounted the account's token. Otherwise there is no
 * cluster, and the cluster endpoints say why.
 */
import { access } from 'node:fs/promises';
import type { ApiConfig } from '@weft/shared';
import { KubeClient } from './kube-client.js';

/** Where Kubernetes mounts the service account's token in a pod. */
export const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** A cluster the API can talk to, or the reason there is none. */
export type ClusterAccess =
  | { readonly available: true; readonly client: KubeClient; readonly mode: 'kubeconfig' | 'in-cluster' }
  | { readonly available: false; readonly reason: string };

/** What {@link openClusterAccess} looks at besides the configuration. */
export interface ClusterAccessOptions {
  /** Prefix of the service account files' paths (token, CA, namespace), for tests. @default "" */
  readonly serviceAccountPrefix?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides how to reach the cluster and prepares the client; makes no Kubernetes
 * call, so the API starts even when the cluster is unreachable.
 * @throws ConfigError when `WEFT_K8S_KUBECONFIG` names an unusable file
 */
export async function openClusterAccess(config: ApiConfig, options: ClusterAccessOptions = {}): Promise<ClusterAccess> {
  const namespace = config.k8sNamespace === undefined ? {} : { namespace: config.k8sNamespace };
  if (config.k8sKubeconfig !== undefined) {
    const client = await KubeClient.connect({ kubeconfigPath: config.k8sKubeconfig, ...namespace });
    return { available: true, client, mode: 'kubeconfig' };
  }
  if (config.kubernetesServiceHost === undefined) {
    return {
      available: false,
      reason: 'the API is not running in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is unset) and WEFT_K8S_KUBECONFIG is not set',
    };
  }
  const prefix = options.serviceAccountPrefix ?? '';
  const tokenPath = prefix + SERVICE_ACCOUNT_TOKEN_PATH;
  if (!(await exists(tokenPath))) {
    return {
      available: false,
      reason: `the API runs in a Kubernetes cluster but has no service account token (${tokenPath}); mount one`,
    };
  }
  const client = await KubeClient.connect({ inClusterPathPrefix: prefix, ...namespace });
  return { available: true, client, mode: 'in-cluster' };
}

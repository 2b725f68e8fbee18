/**
 * A narrow fake of the Kubernetes API server, over real HTTP, for the cluster
 * endpoints' tests. It serves only what the Weft API's Role grants (see the Helm
 * chart): pods list/watch in one namespace, the scale subresource of the granted
 * Deployments (get, patch), and the granted HorizontalPodAutoscalers (get) — with
 * the real paths, request and response shapes and `Status` errors. Every other
 * request is denied with 403, as the API server would, so tests can prove the API
 * calls nothing else. Requests are recorded.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A pod the fake lists. */
export interface FakePod {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  readonly ready: boolean;
  /** Restart count of each container. */
  readonly restarts: readonly number[];
  readonly node?: string;
  readonly startTime?: string;
  readonly deleting?: boolean;
}

/** A Deployment, as far as its scale subresource shows it. */
export interface FakeDeployment {
  /** `spec.replicas`. */
  replicas: number;
  /** `status.replicas`: what runs now; the fake never converges on its own. */
  currentReplicas: number;
}

/** An autoscaling/v2 HorizontalPodAutoscaler. */
export interface FakeHpa {
  readonly target: string;
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  readonly currentReplicas?: number;
  readonly desiredReplicas: number;
}

/** What the Weft API's Role grants; the names limit the rules (`resourceNames`). */
export interface FakeGrants {
  pods: boolean;
  readonly deployments: Set<string>;
  readonly hpas: Set<string>;
}

/** One request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  readonly body: unknown;
  /** What the fake answered. */
  readonly status: number;
}

/** Options of {@link FakeKubeApi.start}. */
export interface FakeKubeApiOptions {
  readonly namespace: string;
  readonly pods?: readonly FakePod[];
  readonly deployments?: Record<string, FakeDeployment>;
  readonly hpas?: Record<string, FakeHpa>;
  /** @default pods granted, and every Deployment and HPA given here */
  readonly grants?: { pods?: boolean; deployments?: readonly string[]; hpas?: readonly string[] };
}

const SERVICE_ACCOUNT = 'system:serviceaccount:weft:weft-api';

function status(code: number, reason: string, message: string, details?: Record<string, string>): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details && { details }), code };
}

function forbidden(verb: string, resource: string, group: string, namespace: string, name?: string): object {
  const subject = name === undefined ? resource : `${resource} "${name}"`;
  const message =
    `${subject} is forbidden: User "${SERVICE_ACCOUNT}" cannot ${verb} resource "${resource}" ` +
    `in API group "${group}" in the namespace "${namespace}"`;
  return status(403, 'Forbidden', message, { ...(name && { name }), group, kind: resource });
}

const notFound = (group: string, kind: string, name: string) =>
  status(404, 'NotFound', `${kind}.${group || 'core'} "${name}" not found`, { name, group, kind });

/** A label selector requirement: `k=v`, `k==v`, `k!=v`, `k`, `!k`. */
function matches(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .every((part) => {
      const unequal = /^([^!=]+)!=(.*)$/.exec(part);
      if (unequal) return labels[unequal[1]!.trim()] !== unequal[2]!.trim();
      const equal = /^([^!=]+)==?(.*)$/.exec(part);
      if (equal) return labels[equal[1]!.trim()] === equal[2]!.trim();
      if (part.startsWith('!')) return !(part.slice(1) in labels);
      return part in labels;
    });
}

/**
 * Writes a kubeconfig (token user, plain HTTP, the context in `namespace`) for
 * `server` into `dir`, and returns its path.
 */
export async function writeKubeconfig(
  dir: string,
  cluster: { readonly server: string; readonly token: string; readonly namespace: string },
): Promise<string> {
  const path = join(dir, 'kubeconfig.yaml');
  const config = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: fake',
    '    cluster:',
    `      server: ${cluster.server}`,
    '      insecure-skip-tls-verify: true',
    'users:',
    '  - name: weft-api',
    '    user:',
    `      token: ${cluster.token}`,
    'contexts:',
    '  - name: fake',
    '    context:',
    '      cluster: fake',
    '      user: weft-api',
    `      namespace: ${cluster.namespace}`,
    'current-context: fake',
    '',
  ].join('\n');
  await writeFile(path, config);
  return path;
}

/** The fake server. */
export class FakeKubeApi {
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly deployments: Map<string, FakeDeployment>;
  readonly hpas: Map<string, FakeHpa>;
  readonly grants: FakeGrants;
  /** Bearer token the fake accepts. */
  readonly token = randomUUID();
  private readonly pods: FakePod[];

  private constructor(
    private readonly server: Server,
    readonly namespace: string,
    options: FakeKubeApiOptions,
  ) {
    this.pods = [...(options.pods ?? [])];
    this.deployments = new Map(Object.entries(options.deployments ?? {}).map(([name, d]) => [name, { ...d }]));
    this.hpas = new Map(Object.entries(options.hpas ?? {}));
    this.grants = {
      pods: options.grants?.pods ?? true,
      deployments: new Set(options.grants?.deployments ?? this.deployments.keys()),
      hpas: new Set(options.grants?.hpas ?? this.hpas.keys()),
    };
  }

  /** Starts the fake on a free port of 127.0.0.1. */
  static async start(options: FakeKubeApiOptions): Promise<FakeKubeApi> {
    const server = createServer();
    const fake = new FakeKubeApi(server, options.namespace, options);
    server.on('request', (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** Base URL of the fake. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests the fake refused: unauthenticated (401) or outside the Role (403). */
  get refused(): RecordedRequest[] {
    return this.requests.filter((r) => r.status === 403 || r.status === 401);
  }

  /** Writes a kubeconfig for the fake into `dir`, and returns its path. */
  writeKubeconfig(dir: string, namespace: string = this.namespace): Promise<string> {
    return writeKubeconfig(dir, { server: this.url, token: this.token, namespace });
  }

  /** Stops the fake. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        // Kept as text.
      }
      const contentType = req.headers['content-type'];
      const [code, answer] = this.route(req.method ?? 'GET', url, req.headers.authorization, contentType, body);
      this.requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType,
        body,
        status: code,
      });
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  }

  private route(
    method: string,
    url: URL,
    authorization: string | undefined,
    contentType: string | undefined,
    body: unknown,
  ): [number, object] {
    if (authorization !== `Bearer ${this.token}`) return [401, status(401, 'Unauthorized', 'Unauthorized')];
    const ns = this.namespace;
    const path = url.pathname;
    const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path);
    if (pods && method === 'GET') {
      const verb = url.searchParams.get('watch') === 'true' ? 'watch' : 'list';
      // The chart's Role also grants watch, but the API only lists: a watch is refused here.
      if (pods[1] !== ns || !this.grants.pods || verb === 'watch') return [403, forbidden(verb, 'pods', '', pods[1] ?? '')];
      return [200, this.podList(url.searchParams.get('labelSelector') ?? '')];
    }
    const scale = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/.exec(path);
    if (scale && (method === 'GET' || method === 'PATCH')) {
      const [, namespace, name] = scale as unknown as [string, string, string];
      const verb = method === 'GET' ? 'get' : 'patch';
      if (namespace !== ns || !this.grants.deployments.has(name)) {
        return [403, forbidden(verb, 'deployments/scale', 'apps', namespace, name)];
      }
      const deployment = this.deployments.get(name);
      if (deployment === undefined) return [404, notFound('apps', 'deployments', name)];
      if (method === 'PATCH') {
        const patched = this.patchScale(deployment, contentType, body);
        if (patched !== undefined) return patched;
      }
      return [200, this.scaleOf(name, deployment)];
    }
    const hpa = /^\/apis\/autoscaling\/v2\/namespaces\/([^/]+)\/horizontalpodautoscalers\/([^/]+)$/.exec(path);
    if (hpa && method === 'GET') {
      const [, namespace, name] = hpa as unknown as [string, string, string];
      if (namespace !== ns || !this.grants.hpas.has(name)) {
        return [403, forbidden('get', 'horizontalpodautoscalers', 'autoscaling', namespace, name)];
      }
      const found = this.hpas.get(name);
      if (found === undefined) return [404, notFound('autoscaling', 'horizontalpodautoscalers', name)];
      return [200, this.hpaOf(name, found)];
    }
    // Anything else is outside the Role.
    return [403, status(403, 'Forbidden', `User "${SERVICE_ACCOUNT}" cannot ${method.toLowerCase()} path "${path}"`)];
  }

  /** Applies a merge patch to the scale; an error answer, or undefined when applied. */
  private patchScale(deployment: FakeDeployment, contentType: string | undefined, body: unknown): [number, object] | undefined {
    if (contentType?.split(';')[0]?.trim() !== 'application/merge-patch+json') {
      return [415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got ${contentType})`)];
    }
    const replicas = (body as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      return [422, status(422, 'Invalid', 'spec.replicas: Invalid value: must be greater than or equal to 0')];
    }
    deployment.replicas = replicas;
    return undefined;
  }

  private podList(selector: string): object {
    const items = this.pods.filter((pod) => matches(selector, pod.labels)).map((pod) => this.podOf(pod));
    return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1000' }, items };
  }

  private podOf(pod: FakePod): object {
    const time = pod.startTime ?? '2025-01-01T00:00:00Z';
    const ready = pod.ready ? 'True' : 'False';
    const containers = pod.restarts.map((_, i) => ({ name: `c${i}`, image: 'weft/worker:test' }));
    return {
      metadata: {
        name: pod.name,
        namespace: this.namespace,
        uid: randomUUID(),
        labels: pod.labels,
        creationTimestamp: time,
        ...(pod.deleting && { deletionTimestamp: '2025-01-01T01:00:00Z', deletionGracePeriodSeconds: 30 }),
      },
      spec: { containers, ...(pod.node !== undefined && { nodeName: pod.node }) },
      status: {
        phase: pod.phase,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: time },
          { type: 'ContainersReady', status: ready, lastTransitionTime: time },
          { type: 'Ready', status: ready, lastTransitionTime: time },
        ],
        containerStatuses: pod.restarts.map((restartCount, i) => ({
          name: `c${i}`,
          image: 'weft/worker:test',
          imageID: 'sha256:0',
          ready: pod.ready,
          started: pod.phase === 'Running',
          restartCount,
        })),
        ...(pod.startTime !== undefined && { startTime: pod.startTime }),
      },
    };
  }

  private scaleOf(name: string, deployment: FakeDeployment): object {
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace: this.namespace, uid: randomUUID(), resourceVersion: '7', creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { replicas: deployment.replicas },
      status: { replicas: deployment.currentReplicas, selector: `app.kubernetes.io/name=weft,weft.io/deployment=${name}` },
    };
  }

  private hpaOf(name: string, hpa: FakeHpa): object {
    return {
      kind: 'HorizontalPodAutoscaler',
      apiVersion: 'autoscaling/v2',
      metadata: { name, namespace: this.namespace, uid: randomUUID(), resourceVersion: '9' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: hpa.target },
        ...(hpa.minReplicas !== undefined && { minReplicas: hpa.minReplicas }),
        maxReplicas: hpa.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
      status: {
        ...(hpa.currentReplicas !== undefined && { currentReplicas: hpa.currentReplicas }),
        desiredReplicas: hpa.desiredReplicas,
      },
    };
  }
}

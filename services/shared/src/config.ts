import os from 'node:os';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, toPointer } from './errors.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, NAME_PATTERN } from './names.js';
import { WORKER_HEARTBEAT_TTL_MS } from './nats/infrastructure.js';

/**
 * Configuration of every Weft process. Options are resolved once into frozen
 * objects with units in their names; the environment is read only here.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** Settings every process shares. */
export const CommonConfigSchema = z.object({
  /** NATS server URL(s), comma separated. @default "nats://127.0.0.1:4222" */
  natsUrl: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** NATS user, when the server requires credentials. */
  natsUser: z.string().optional(),
  /** NATS password for `natsUser`. */
  natsPassword: z.string().optional(),
  /** NATS token, as an alternative to user and password. */
  natsToken: z.string().optional(),
  /** Prefix of every stream, bucket and subject. @default "weft" */
  prefix: z.string().regex(NAME_PATTERN).default(DEFAULT_PREFIX),
  /** pino log level. @default "info" */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Values larger than this, in bytes, go to the object store instead of messages and KV entries. @default 131072 */
  inlineValueMaxBytes: int(1024, 512 * 1024).default(128 * 1024),
  /** How long finished jobs, their results and events are kept, in milliseconds. @default 7 days */
  retentionMs: int(60_000).default(7 * 24 * 3600 * 1000),
  /** Window in which a republished work item is recognised as a duplicate, in milliseconds. @default 600000 */
  duplicateWindowMs: int(1000).default(10 * 60 * 1000),
  /**
   * Root of the shared volume that `{"path": …}` file inputs are relative to (a local
   * directory, or where a PersistentVolumeClaim is mounted). Unset: path inputs are refused.
   */
  dataRoot: z.string().min(1).optional(),
  /** Target size of the parts stored files are cut into, in bytes (capped by the NATS message size). @default 512 KiB */
  filePartBytes: int(4096, 64 * 1024 * 1024).default(512 * 1024),
});
export type CommonConfig = z.infer<typeof CommonConfigSchema>;

/** A Kubernetes object name (DNS-1123 subdomain). */
const K8S_NAME = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a Kubernetes object name');

/** A Kubernetes namespace name (DNS-1123 label). */
const K8S_NAMESPACE = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes namespace name');

/** How a worker pool's replica count is managed. */
export const PoolAutoscalerKindSchema = z.enum(['none', 'hpa', 'keda']);
export type PoolAutoscalerKind = z.infer<typeof PoolAutoscalerKindSchema>;

/**
 * A worker pool as deployed on Kubernetes: its Deployment and, when the pool is
 * autoscaled, the HorizontalPodAutoscaler that drives it (for KEDA, the HPA KEDA
 * creates: `keda-hpa-<scaledobject>`).
 */
export const WorkerPoolSchema = z
  .strictObject({
    /** Pool name, as carried by the worker pods' `weft.io/pool` label. */
    pool: z.string().regex(NAME_PATTERN),
    /** Name of the pool's Deployment. */
    deployment: K8S_NAME,
    /** What sets the replica count. @default "none" (set by hand, e.g. `PUT /v1/workers/:pool/replicas`) */
    autoscaler: PoolAutoscalerKindSchema.default('none'),
    /** Name of the HPA; required with `hpa` and `keda`, absent with `none`. */
    hpa: K8S_NAME.optional(),
  })
  .superRefine((pool, ctx) => {
    if (pool.autoscaler === 'none' && pool.hpa !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hpa'], message: 'an HPA is only named for autoscaled pools' });
    } else if (pool.autoscaler !== 'none' && pool.hpa === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hpa'], message: `required for autoscaler "${pool.autoscaler}"` });
    }
  });
export type WorkerPool = z.infer<typeof WorkerPoolSchema>;

/** The worker pools, with unique pool and Deployment names. */
const WorkerPoolListSchema = z.array(WorkerPoolSchema).superRefine((pools, ctx) => {
  for (const key of ['pool', 'deployment'] as const) {
    const seen = new Set<string>();
    pools.forEach((pool, index) => {
      if (seen.has(pool[key])) ctx.addIssue({ code: 'custom', path: [index, key], message: `duplicate ${key} "${pool[key]}"` });
      seen.add(pool[key]);
    });
  }
});

/** Settings of the API process. */
export const ApiConfigSchema = CommonConfigSchema.extend({
  /** Interface the HTTP server listens on. @default "0.0.0.0" */
  host: z.string().default('0.0.0.0'),
  /** HTTP port. @default 8080 */
  port: int(0, 65535).default(8080),
  /** Largest request body, in bytes. @default 16 MiB */
  bodyLimitBytes: int(1024).default(16 * 1024 * 1024),
  /** Most nodes in one job spec. @default 250000 */
  maxSpecNodes: int(1).default(250_000),
  /** Deepest nesting in one job spec. @default 32 */
  maxSpecDepth: int(1, 256).default(32),
  /** Most chunks in one map-reduce. @default 100000 */
  maxChunks: int(1).default(100_000),
  /** Most tasks in one job: leaf tasks, map chunks and reduce steps. @default 1000000 */
  maxTasks: int(1).default(1_000_000),
  /** Longest `?wait=` a request may ask for, in milliseconds. @default 300000 */
  maxWaitMs: int(0).default(300_000),
  /** Largest file `PUT /v1/files/…` accepts, in bytes. @default 10 GiB */
  fileMaxBytes: int(0).default(10 * 1024 ** 3),
  /**
   * How long the parts of an upload that no file refers to are kept after the last of
   * them was written, in milliseconds, before they are removed: an upload cut off by a
   * crash, or the `output` pieces of a map-reduce that failed or was cancelled. The
   * store is swept every 10 minutes, or every `fileOrphanGraceMs` when that is shorter.
   * @default 3600000 (one hour)
   */
  fileOrphanGraceMs: int(1000).default(3_600_000),
  /**
   * Whether jobs may read `{"url": …}` inputs. The API and the workers then fetch
   * URLs that users name, from inside your network: turn this off where that matters.
   * @default true
   */
  urlInputs: z.union([z.boolean(), z.stringbool()]).default(true),
  /**
   * Set by Kubernetes in every pod (`KUBERNETES_SERVICE_HOST`); with the service
   * account token present, it means the API runs in a cluster.
   */
  kubernetesServiceHost: z.string().optional(),
  /** Kubeconfig file to reach a cluster from outside it (takes precedence over in-cluster access). */
  k8sKubeconfig: z.string().min(1).optional(),
  /** Namespace of the Weft release. @default the service account's namespace (in cluster), else the kubeconfig context's */
  k8sNamespace: K8S_NAMESPACE.optional(),
  /** Label selector of the worker pods. @default "weft.io/pool" (pods that carry a pool label) */
  k8sWorkerSelector: z.string().min(1).default('weft.io/pool'),
  /** The worker pools and their Deployments. @default [] */
  k8sWorkerPools: WorkerPoolListSchema.default([]),
  /** Largest replica count `PUT /v1/workers/:pool/replicas` accepts. @default 100 */
  k8sMaxReplicas: int(1, 10_000).default(100),
});
export type ApiConfig = Readonly<
  Omit<z.infer<typeof ApiConfigSchema>, 'k8sWorkerPools'> & { k8sWorkerPools: readonly Readonly<WorkerPool>[] }
>;

/** Settings of a worker process. */
export const WorkerConfigSchema = CommonConfigSchema.extend({
  /** Name shown in `GET /v1/workers`. @default the host name */
  name: z.string().min(1).max(128).default(() => os.hostname()),
  /** Queues (worker pools) this worker pulls from. @default ["default"] */
  queues: z.array(z.string().regex(NAME_PATTERN)).min(1).default([DEFAULT_QUEUE]),
  /** Threads of the CPU pool. @default the CPUs available to the process (cgroup quota aware) */
  threads: int(1, 1024).default(() => availableCpus()),
  /** Work items processed at once (at most two per thread of those that may need a thread). @default max(4, 2 × threads) */
  concurrency: int(1, 4096).optional(),
  /** Light (event-loop) tasks running at once. @default 256 */
  ioConcurrency: int(1, 100_000).default(256),
  /** Time a work item may go without an acknowledgement before NATS redelivers it, in milliseconds. @default 30000 */
  ackWaitMs: int(1000).default(30_000),
  /**
   * Interval of heartbeats and in-progress acknowledgements, in milliseconds: at most a
   * third of the heartbeat entries' TTL, so that a live worker's entry never expires. @default 5000
   */
  heartbeatMs: int(100, WORKER_HEARTBEAT_TTL_MS / 3).default(5000),
  /**
   * Largest value a worker stores, encoded, in bytes: a task result, a group's list, a
   * reduce step's input. A larger one fails its job with `VALUE_TOO_LARGE` instead of
   * filling the memory of whoever reads it. @default 256 MiB
   */
  maxValueBytes: int(1024, 512 * 1024 * 1024).default(256 * 1024 * 1024),
  /** Longest time `close()` waits for in-flight work before handing it back, in milliseconds. @default 25000 */
  drainTimeoutMs: int(0).default(25_000),
  /** Port of the health endpoint (`/healthz`, `/readyz`); 0 turns it off. @default 0 */
  healthPort: int(0, 65535).default(0),
  /** Times a work item may be delivered before it is failed as poison (crashing its workers). @default 10 */
  maxDeliveries: int(2, 1000).default(10),
});
export type WorkerConfig = Readonly<Omit<z.infer<typeof WorkerConfigSchema>, 'concurrency'> & { concurrency: number }>;

function parse<S extends z.ZodType>(schema: S, input: unknown, envNames?: Record<string, string>): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const [key, ...rest] = i.path;
        const envName = envNames?.[String(key ?? '')];
        // Inside a structured (JSON) variable, the pointer continues from its name.
        return { pointer: envName === undefined ? toPointer(i.path) : envName + toPointer(rest), message: i.message };
      }),
    );
  }
  return result.data;
}

/** Resolves API options (defaults applied, validated, frozen). */
export function resolveApiConfig(options: Partial<z.input<typeof ApiConfigSchema>> = {}): ApiConfig {
  return freezeApiConfig(parse(ApiConfigSchema, options));
}

function freezeApiConfig(parsed: z.infer<typeof ApiConfigSchema>): ApiConfig {
  const pools = Object.freeze(parsed.k8sWorkerPools.map((pool) => Object.freeze({ ...pool })));
  return Object.freeze({ ...parsed, k8sWorkerPools: pools });
}

/** Resolves worker options (defaults applied, validated, frozen). */
export function resolveWorkerConfig(options: Partial<z.input<typeof WorkerConfigSchema>> = {}): WorkerConfig {
  const parsed = parse(WorkerConfigSchema, options);
  return Object.freeze({
    ...parsed,
    queues: Object.freeze([...new Set(parsed.queues)]) as string[],
    concurrency: parsed.concurrency ?? Math.max(4, 2 * parsed.threads),
  });
}

const COMMON_ENV = {
  natsUrl: 'WEFT_NATS_URL',
  natsUser: 'WEFT_NATS_USER',
  natsPassword: 'WEFT_NATS_PASSWORD',
  natsToken: 'WEFT_NATS_TOKEN',
  prefix: 'WEFT_PREFIX',
  logLevel: 'WEFT_LOG_LEVEL',
  inlineValueMaxBytes: 'WEFT_INLINE_VALUE_MAX_BYTES',
  retentionMs: 'WEFT_RETENTION_MS',
  duplicateWindowMs: 'WEFT_DUPLICATE_WINDOW_MS',
  dataRoot: 'WEFT_DATA_ROOT',
  filePartBytes: 'WEFT_FILE_PART_BYTES',
} as const;

/** Environment variable of each API setting. */
export const API_ENV = {
  ...COMMON_ENV,
  host: 'WEFT_API_HOST',
  port: 'WEFT_API_PORT',
  bodyLimitBytes: 'WEFT_BODY_LIMIT_BYTES',
  maxSpecNodes: 'WEFT_MAX_SPEC_NODES',
  maxSpecDepth: 'WEFT_MAX_SPEC_DEPTH',
  maxChunks: 'WEFT_MAX_CHUNKS',
  maxTasks: 'WEFT_MAX_TASKS',
  maxWaitMs: 'WEFT_MAX_WAIT_MS',
  fileMaxBytes: 'WEFT_FILE_MAX_BYTES',
  fileOrphanGraceMs: 'WEFT_FILE_ORPHAN_GRACE_MS',
  urlInputs: 'WEFT_URL_INPUTS',
  kubernetesServiceHost: 'KUBERNETES_SERVICE_HOST',
  k8sKubeconfig: 'WEFT_K8S_KUBECONFIG',
  k8sNamespace: 'WEFT_K8S_NAMESPACE',
  k8sWorkerSelector: 'WEFT_K8S_WORKER_SELECTOR',
  k8sWorkerPools: 'WEFT_K8S_WORKER_POOLS',
  k8sMaxReplicas: 'WEFT_K8S_MAX_REPLICAS',
} as const;

/** Settings whose variable holds JSON. */
const JSON_SETTINGS: ReadonlySet<string> = new Set(['k8sWorkerPools']);

/** Environment variable of each worker setting. */
export const WORKER_ENV = {
  ...COMMON_ENV,
  name: 'WEFT_WORKER_NAME',
  queues: 'WEFT_QUEUES',
  threads: 'WEFT_THREADS',
  concurrency: 'WEFT_CONCURRENCY',
  ioConcurrency: 'WEFT_IO_CONCURRENCY',
  ackWaitMs: 'WEFT_ACK_WAIT_MS',
  heartbeatMs: 'WEFT_HEARTBEAT_MS',
  maxValueBytes: 'WEFT_MAX_VALUE_BYTES',
  drainTimeoutMs: 'WEFT_DRAIN_TIMEOUT_MS',
  healthPort: 'WEFT_HEALTH_PORT',
  maxDeliveries: 'WEFT_MAX_DELIVERIES',
} as const;

function parseJsonSetting(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new ConfigError([{ pointer: name, message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

function fromEnv(names: Record<string, string>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(names)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (key === 'queues') out[key] = raw.split(',').map((q) => q.trim()).filter(Boolean);
    else if (JSON_SETTINGS.has(key)) out[key] = parseJsonSetting(name, raw);
    else out[key] = raw;
  }
  return out;
}

/** Reads the API's configuration from the environment (see `API_ENV`). @throws ConfigError naming the variable */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return freezeApiConfig(parse(ApiConfigSchema, fromEnv(API_ENV, env), API_ENV));
}

/** Reads a worker's configuration from the environment (see `WORKER_ENV`). @throws ConfigError naming the variable */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = parse(WorkerConfigSchema, fromEnv(WORKER_ENV, env), WORKER_ENV);
  return resolveWorkerConfig(parsed);
}

/**
 * CPUs this process may use: the cgroup v2 (or v1) CPU quota when one is set, as in
 * a Kubernetes pod with a CPU limit, otherwise `os.availableParallelism()`.
 */
export function availableCpus(): number {
  const host = os.availableParallelism();
  const quota = cgroupCpuQuota();
  return quota === undefined ? host : Math.max(1, Math.min(host, Math.ceil(quota)));
}

function cgroupCpuQuota(): number | undefined {
  try {
    const [max, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (max && max !== 'max' && period) return Number(max) / Number(period);
    return undefined;
  } catch {
    try {
      const quota = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
      const period = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
      return quota > 0 && period > 0 ? quota / period : undefined;
    } catch {
      return undefined;
    }
  }
}

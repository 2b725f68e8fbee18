/**
 * Zod schemas of everything the HTTP API accepts in queries and parameters and
 * returns in bodies. Response types are inferred from them; the OpenAPI document is
 * generated from them.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import {
  JobEndEventSchema,
  JobErrorSchema,
  JobNodeSchema,
  JobRecordSchema,
  JobStatusSchema,
  MAX_CANCEL_REASON_LENGTH,
  TaskCompletionSchema,
  WorkerHeartbeatSchema,
} from '@weft/shared';
import { CURSOR_PATTERN, PAGE_SCAN_LIMIT } from './jobs/job-listing.js';

/**
 * Publishes `schema` as the named component `id` of the OpenAPI document. Metadata
 * lives in zod's global registry, like the descriptions `.describe()` records, so the
 * generator sees both. The recursive job spec needs a name: its recursion becomes a
 * `$ref` to the component. Request schemas get an `Input` suffix (`JobNodeInput`).
 */
function component<S extends z.ZodType>(schema: S, id: string, description: string): S {
  z.globalRegistry.add(schema, { id, description });
  return schema;
}

component(
  JobNodeSchema,
  'JobNode',
  'A job node: exactly one of `task`, `chain`, `group`, `chord` or `mapReduce`, plus optional node options. ' +
    'Nodes nest freely.',
);

// ---------------------------------------------------------------------------
// Requests

/** Path parameters of the job routes. Any string is accepted; ids of the wrong shape are simply not found. */
export const JobParamsSchema = z.object({
  id: z.string().describe('Job id (26 lower-case base32 characters).'),
});

/** Body of `POST /v1/jobs/:id/cancel`; it may be left out (fastify then passes `null`). */
export const CancelJobBodySchema = z
  .strictObject({
    reason: z
      .string()
      .min(1)
      .max(MAX_CANCEL_REASON_LENGTH)
      .optional()
      .describe(`Why the job is cancelled (at most ${MAX_CANCEL_REASON_LENGTH} characters); shown in the job's \`error\`.`),
  })
  .nullish();

/**
 * A decimal number in a query string, such as `5` or `0.5`. Unlike `z.coerce.number()`,
 * which takes `Number()`'s word for it, an empty value, `0x10` or ` 1` is refused.
 */
function queryNumber({ integer, min, max }: { integer: boolean; min: number; max: number }) {
  const pattern = integer ? /^\d{1,15}$/ : /^\d{1,15}(?:\.\d{1,9})?$/;
  return z
    .string()
    .regex(pattern, integer ? 'expected a whole number' : 'expected a number such as 5 or 0.5')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
}

/** Query of the routes that can wait for a job to finish; the bound comes from the configuration. */
export function waitQuerySchema(maxWaitMs: number) {
  const maxSeconds = maxWaitMs / 1000;
  return z.object({
    wait: queryNumber({ integer: false, min: 0, max: maxSeconds })
      .optional()
      .describe(`Seconds to wait for the job to finish (0 to ${maxSeconds}).`),
  });
}
/** A parsed `?wait=` query. */
export type WaitQuery = z.infer<ReturnType<typeof waitQuerySchema>>;

/** Most jobs one listing returns. */
export const MAX_LIST_LIMIT = 500;

/** Query of `GET /v1/jobs`. */
export const JobListQuerySchema = z.object({
  status: JobStatusSchema.optional().describe('Only jobs in this status.'),
  limit: queryNumber({ integer: true, min: 1, max: MAX_LIST_LIMIT })
    .default(50)
    .describe(`Most jobs to return (1 to ${MAX_LIST_LIMIT}).`),
  cursor: z
    .string()
    .regex(CURSOR_PATTERN, 'expected the cursor of a page, as its `next` link gives it')
    .optional()
    .describe('Where to go on from: set by the `next` link of the page before.'),
});
export type JobListQuery = z.infer<typeof JobListQuerySchema>;

// ---------------------------------------------------------------------------
// Jobs

/** Where a job's resources live. */
export const JobLinksSchema = z.object({
  self: z.string(),
  events: z.string(),
});
export type JobLinks = z.infer<typeof JobLinksSchema>;

/** Something the client should know about a job that has not finished. */
export const JobWarningSchema = z.object({
  code: z.enum(['NO_LIVE_WORKERS']).describe('`NO_LIVE_WORKERS`: no live worker pulls from `queue`.'),
  queue: z.string().describe('The queue concerned.'),
  message: z.string(),
});
export type JobWarning = z.infer<typeof JobWarningSchema>;
component(JobWarningSchema, 'JobWarning', 'Something the client should know about a job that has not finished.');

/** A job as the API shows it. */
export const JobViewSchema = JobRecordSchema.omit({ result: true, tasks: true, queues: true }).extend({
  durationMs: z
    .number()
    .nonnegative()
    .optional()
    .describe('Milliseconds from start (or creation, if it never started) to finish; only when finished.'),
  result: z
    .unknown()
    .optional()
    .describe('The value of the job; only when it succeeded. Integers beyond 2^53 are written with every digit.'),
  error: JobErrorSchema.optional(),
  warnings: z
    .array(JobWarningSchema)
    .optional()
    .describe(
      'The queues the job uses (its start, and its tasks) that no live worker pulls from: work sent there waits ' +
        'until a worker does. Only while the job has not finished.',
    ),
  links: JobLinksSchema,
});
export type JobView = z.infer<typeof JobViewSchema>;
component(JobViewSchema, 'JobView', 'A job.');

/** A job in a listing: the view without its result. */
export const JobSummarySchema = JobViewSchema.omit({ result: true });
export type JobSummary = z.infer<typeof JobSummarySchema>;

/** What `POST /v1/jobs` answers when asked not to wait. */
export const JobAcceptedSchema = JobViewSchema.pick({
  id: true,
  status: true,
  progress: true,
  createdAt: true,
  warnings: true,
  links: true,
});
export type JobAccepted = z.infer<typeof JobAcceptedSchema>;

/** Body of `GET /v1/jobs`. */
export const JobListSchema = z.object({
  jobs: z.array(JobSummarySchema).describe('Most recent first.'),
  next: z
    .string()
    .optional()
    .describe(
      `The next page, with the same filter: older jobs are left to look through. A page looks through at most ` +
        `${PAGE_SCAN_LIMIT.toLocaleString('en-US')} jobs, so with a status filter it may hold fewer than \`limit\` jobs and still have a next page.`,
    ),
});
export type JobList = z.infer<typeof JobListSchema>;

/** Data of an SSE `task` event: one finished task of the job. */
export const TaskEventDataSchema = TaskCompletionSchema.extend({ jobId: z.string() });
export type TaskEventData = z.infer<typeof TaskEventDataSchema>;

/** Data of the SSE `job` event that ends a stream. */
export const JobEndEventDataSchema = JobEndEventSchema.omit({ type: true, record: true, tasks: true });
export type JobEndEventData = z.infer<typeof JobEndEventDataSchema>;

// ---------------------------------------------------------------------------
// Catalogue, workers, health

/** One task of the catalogue. */
export const TaskInfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  cpuBound: z.boolean().describe('Runs on the worker thread pool rather than the event loop.'),
  args: z.record(z.string(), z.unknown()).describe('JSON Schema of the positional argument list.'),
});
export type TaskInfo = z.infer<typeof TaskInfoSchema>;

/** Body of `GET /v1/tasks`. */
export const TaskListSchema = z.object({ tasks: z.array(TaskInfoSchema) });
export type TaskList = z.infer<typeof TaskListSchema>;

/** A live worker, from its latest heartbeat. */
export const WorkerViewSchema = WorkerHeartbeatSchema.omit({ heartbeatMs: true });
export type WorkerView = z.infer<typeof WorkerViewSchema>;

// ---------------------------------------------------------------------------
// Kubernetes: worker pods and pools

/** A worker pod. */
export const WorkerPodViewSchema = z.object({
  name: z.string(),
  pool: z.string().nullable().describe('The `weft.io/pool` label of the pod.'),
  phase: z.string().describe('Pod phase: `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.'),
  ready: z.boolean().describe('The `Ready` condition of the pod is true.'),
  restarts: z.number().int().nonnegative().describe('Restarts of its containers, summed.'),
  node: z.string().nullable().describe('Node the pod is scheduled on.'),
  startedAt: z.string().nullable().describe('When the kubelet started the pod (ISO 8601).'),
  terminating: z.boolean().describe('The pod is being deleted.'),
  workers: z.array(z.string()).describe('Ids of the live workers in `workers` that run in this pod (by host name).'),
});
export type WorkerPodView = z.infer<typeof WorkerPodViewSchema>;
component(WorkerPodViewSchema, 'WorkerPodView', 'A worker pod.');

/** Replica counts of a pool's Deployment, from its scale subresource. */
export const ReplicaCountsSchema = z.object({
  desired: z.number().int().nonnegative().describe('Replicas the Deployment is asked to run (`spec.replicas`).'),
  current: z.number().int().nonnegative().describe('Pods the Deployment runs now (`status.replicas`).'),
});
export type ReplicaCounts = z.infer<typeof ReplicaCountsSchema>;

/** What sets a pool's replica count. */
export const PoolAutoscalerViewSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none').describe('Set by hand: `PUT /v1/workers/{pool}/replicas`.') }),
  z.object({
    kind: z.enum(['hpa', 'keda']).describe('A HorizontalPodAutoscaler, or KEDA through the HPA it manages.'),
    hpa: z.string().describe('Name of the HorizontalPodAutoscaler.'),
    found: z.boolean().describe('The HPA exists; when it does not, the counts below are null.'),
    minReplicas: z.number().int().nullable(),
    maxReplicas: z.number().int().nullable(),
    currentReplicas: z.number().int().nullable().describe('Replicas the HPA last saw.'),
    desiredReplicas: z.number().int().nullable().describe('Replicas the HPA last asked for.'),
  }),
]);
export type PoolAutoscalerView = z.infer<typeof PoolAutoscalerViewSchema>;

/** A worker pool: its Deployment and what scales it. */
export const WorkerPoolViewSchema = z.object({
  pool: z.string(),
  deployment: z.string().describe('Name of the Deployment running the pool.'),
  replicas: ReplicaCountsSchema.nullable().describe('null when the Deployment does not exist.'),
  autoscaler: PoolAutoscalerViewSchema,
});
export type WorkerPoolView = z.infer<typeof WorkerPoolViewSchema>;
component(WorkerPoolViewSchema, 'WorkerPoolView', 'A worker pool.');

/** The cluster section of `GET /v1/workers`. */
export const ClusterViewSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    namespace: z.string().describe('Namespace of the Weft release.'),
    pools: z.array(WorkerPoolViewSchema).describe('The configured pools, in configuration order.'),
    pods: z.array(WorkerPodViewSchema).describe('Pods matching the worker selector, by pool and name.'),
  }),
  z.object({
    status: z.literal('unavailable'),
    reason: z.string().describe('Why there is no cluster, e.g. the API runs outside Kubernetes.'),
  }),
  z.object({
    status: z.literal('error'),
    namespace: z.string(),
    code: z.string().describe('`KUBERNETES_FORBIDDEN` or `KUBERNETES_API_ERROR`, as in problem details.'),
    detail: z.string(),
  }),
]);
export type ClusterView = z.infer<typeof ClusterViewSchema>;
component(
  ClusterViewSchema,
  'ClusterView',
  'Worker pods and pools on Kubernetes: `ok`, `unavailable` outside a cluster, or `error` when the Kubernetes API failed.',
);

/** Path parameters of the pool routes. */
export const PoolParamsSchema = z.object({
  pool: z.string().describe('Worker pool name.'),
});

/** Body of `PUT /v1/workers/:pool/replicas`; the bound comes from the configuration. */
export function replicasBodySchema(maxReplicas: number) {
  return z.strictObject({
    replicas: z.number().int().min(0).max(maxReplicas).describe(`Replicas to run (0 to ${maxReplicas}).`),
  });
}

/** Answer of `PUT /v1/workers/:pool/replicas`: the Deployment's scale after the change. */
export const PoolScaleSchema = z.object({
  pool: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  replicas: ReplicaCountsSchema,
});
export type PoolScale = z.infer<typeof PoolScaleSchema>;

/**
 * Body of `GET /v1/workers`. An object rather than a list, so that further sections
 * can be added without breaking clients.
 */
export const WorkerListSchema = z.object({
  workers: z.array(WorkerViewSchema).describe('Workers whose heartbeat is fresh, by name.'),
  cluster: ClusterViewSchema,
});
export type WorkerList = z.infer<typeof WorkerListSchema>;

/** Body of the health endpoints when healthy. */
export const HealthSchema = z.object({ status: z.literal('ok') });
export type Health = z.infer<typeof HealthSchema>;

// ---------------------------------------------------------------------------
// Errors

/** One problem in the request, located by a JSON Pointer. */
export const ProblemIssueSchema = z.object({
  pointer: z.string().describe('JSON Pointer (RFC 6901): into the body, or `/query/<name>`, `/params/<name>`.'),
  message: z.string(),
});
export type ProblemIssue = z.infer<typeof ProblemIssueSchema>;

/** An error response: RFC 9457 problem details, with Weft's stable `code`. Extension members may follow. */
export const ProblemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().describe('Stable machine-readable code, e.g. `UNKNOWN_TASK`.'),
  instance: z.string(),
  errors: z.array(ProblemIssueSchema).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
component(ProblemSchema, 'Problem', 'An error: RFC 9457 problem details.');

/** Media type of problem details in the OpenAPI document (responses add a charset). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** Route response entries documenting the given error statuses as problem details. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: STATUS_CODES[status] ?? 'Error', content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } },
    ]),
  );
}

/** A route response entry: a JSON body described by `schema`, with a description for the OpenAPI document. */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A stored file, as `GET /v1/files` lists it. */
export const FileInfoSchema = z.object({
  name: z.string().meta({ description: 'Name, e.g. `logs/2026/a.txt`.' }),
  size: z.number().int().meta({ description: 'Size in bytes.' }),
  contentType: z.string(),
  sha256: z.string().meta({ description: 'SHA-256 of the content, hex.' }),
  createdAt: z.string().meta({ description: 'When the upload finished (ISO 8601).' }),
  parts: z.number().int().meta({ description: 'Line-aligned parts the file is stored in.' }),
});
export type FileInfoView = z.infer<typeof FileInfoSchema>;

/** `GET /v1/files` query. */
export const FileListQuerySchema = z.object({
  prefix: z.string().max(1024).optional().meta({ description: 'Only names starting with this.' }),
});

/** `GET /v1/files` response. */
export const FileListSchema = z.object({ files: z.array(FileInfoSchema) });

/** Path parameters of the file routes: the name is the rest of the path. */
export const FileParamsSchema = z.object({
  '*': z.string().meta({ description: 'File name, e.g. `logs/2026/a.txt` (URL-encoded where needed).' }),
});

/** Conditional request headers of the file routes (RFC 9110 §13), matched against a file's `ETag` and `Last-Modified`. */
export const FileConditionHeadersSchema = z.object({
  'if-match': z.string().optional().meta({ description: 'Go ahead only if the file exists with one of these entity tags (or any, with `*`); else 412.' }),
  'if-none-match': z
    .string()
    .optional()
    .meta({ description: 'A read answers 304 if the file has one of these entity tags; a change fails with 412 (`*`: if the file exists).' }),
  'if-modified-since': z.string().optional().meta({ description: 'A read answers 304 if the file was not stored since (unless `If-None-Match` is sent).' }),
  'if-unmodified-since': z.string().optional().meta({ description: 'Go ahead only if the file was not stored since (unless `If-Match` is sent); else 412.' }),
});

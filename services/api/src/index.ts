/**
 * @weft/api: the HTTP API of Weft. Validates, stores and tracks jobs; the process
 * entry is `server.ts` (`weft-api`).
 */
export { buildApp, type BuildAppOptions } from './app.js';
export type { ApiInstance } from './app-context.js';
export { NotReadyError, PROBLEM_TYPE_BASE, problemType, RouteNotFoundError, toProblem } from './api-errors.js';
export {
  ClusterUnavailableError,
  KubernetesApiError,
  KubernetesError,
  KubernetesForbiddenError,
  PoolAutoscaledError,
  PoolDeploymentNotFoundError,
  PoolNotFoundError,
} from './cluster/cluster-errors.js';
export { POOL_LABEL } from './cluster/kube-client.js';
export {
  KUBERNETES_RBAC_RULES,
  kubernetesRbacRulesFor,
  type KubernetesPermission,
  type KubernetesRbacRule,
} from './cluster/rbac-rules.js';
export type { JobEventStreamOptions } from './jobs/job-event-stream.js';
export { DOCS_PATH, OPENAPI_PATH } from './openapi.js';
export {
  ClusterViewSchema,
  HealthSchema,
  JobAcceptedSchema,
  JobEndEventDataSchema,
  JobLinksSchema,
  JobListQuerySchema,
  JobListSchema,
  JobSummarySchema,
  JobViewSchema,
  JobWarningSchema,
  PoolAutoscalerViewSchema,
  PoolScaleSchema,
  ProblemIssueSchema,
  ProblemSchema,
  TaskEventDataSchema,
  TaskInfoSchema,
  TaskListSchema,
  ReplicaCountsSchema,
  WorkerListSchema,
  WorkerPodViewSchema,
  WorkerPoolViewSchema,
  WorkerViewSchema,
  type ClusterView,
  type Health,
  type JobAccepted,
  type JobEndEventData,
  type JobLinks,
  type JobList,
  type JobListQuery,
  type JobSummary,
  type JobView,
  type JobWarning,
  type PoolAutoscalerView,
  type PoolScale,
  type Problem,
  type ProblemIssue,
  type TaskEventData,
  type TaskInfo,
  type TaskList,
  type ReplicaCounts,
  type WorkerList,
  type WorkerPodView,
  type WorkerPoolView,
  type WorkerView,
} from './schemas.js';
export { API_VERSION } from './version.js';

/**
 * `GET /v1/workers`: the live workers and, on Kubernetes, the worker pods and pools;
 * `PUT /v1/workers/:pool/replicas`: scale a pool by hand.
 */
import type { ApiInstance, AppContext } from '../app-context.js';
import {
  jsonResponse,
  PoolParamsSchema,
  PoolScaleSchema,
  problemResponses,
  replicasBodySchema,
  WorkerListSchema,
} from '../schemas.js';
import { liveWorkers } from '../workers/live-workers.js';

/** Declares the workers routes. */
export function registerWorkerRoutes(app: ApiInstance, ctx: AppContext): void {
  app.get(
    '/v1/workers',
    {
      schema: {
        tags: ['workers'],
        summary: 'List the live workers, and the worker pods and pools',
        description:
          'Workers with a fresh heartbeat (seen within three heartbeat intervals). `cluster` shows the worker pods ' +
          'and the replicas and autoscaler of each pool when the API has a Kubernetes cluster (`status: ok`); ' +
          'otherwise it says why not (`unavailable`), or that the Kubernetes API failed (`error`) — the live ' +
          'workers are listed in every case. Cluster reads are reused for 2 seconds.',
        response: { 200: jsonResponse(WorkerListSchema, 'Live workers, and the cluster section.'), ...problemResponses(503) },
      },
    },
    async (request) => {
      const live = await liveWorkers(ctx.infra, request.log);
      const cluster = await ctx.cluster.view(live);
      return { workers: live.map(({ heartbeatMs: _heartbeatMs, ...worker }) => worker), cluster };
    },
  );

  app.put(
    '/v1/workers/:pool/replicas',
    {
      schema: {
        tags: ['workers'],
        summary: 'Scale a worker pool',
        description:
          'Sets the replica count of the Deployment of a pool (through its scale subresource). Only pools scaled by hand ' +
          '(autoscaler `none`) can be scaled here: for a pool driven by an HPA or KEDA the answer is 409 ' +
          '`POOL_AUTOSCALED` — change the bounds of the autoscaler instead. Without a Kubernetes cluster the answer is ' +
          '501 `CLUSTER_UNAVAILABLE`; when the Kubernetes API denies or fails the call, 502.',
        params: PoolParamsSchema,
        body: replicasBodySchema(ctx.config.k8sMaxReplicas),
        response: {
          200: jsonResponse(PoolScaleSchema, 'The new desired count; pods start or stop after the answer.'),
          ...problemResponses(400, 404, 409, 415, 501, 502),
        },
      },
    },
    async (request) => {
      const { pool } = request.params;
      const { replicas } = request.body;
      const result = await ctx.cluster.scale(pool, replicas);
      request.log.info({ pool, deployment: result.deployment, replicas }, 'worker pool scaled');
      return result;
    },
  );
}

/**
 * `GET /v1/workers`: the live workers.
 */
import type { ApiInstance, AppContext } from '../app-context.js';
import { jsonResponse, WorkerListSchema } from '../schemas.js';
import { liveWorkers } from '../workers/live-workers.js';

/** Declares the workers route. */
export function registerWorkerRoutes(app: ApiInstance, ctx: AppContext): void {
  app.get(
    '/v1/workers',
    {
      schema: {
        tags: ['workers'],
        summary: 'List the live workers',
        description: 'Workers with a fresh heartbeat (seen within three heartbeat intervals).',
        response: { 200: jsonResponse(WorkerListSchema, 'Live workers.') },
      },
    },
    async (request) => {
      const workers = await liveWorkers(ctx.infra, request.log);
      return { workers: workers.map(({ heartbeatMs: _heartbeatMs, ...worker }) => worker) };
    },
  );
}

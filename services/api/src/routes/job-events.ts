/**
 * `GET /v1/jobs/:id/events`: a job's events as Server-Sent Events.
 */
import { z } from 'zod';
import type { ApiInstance, AppContext } from '../app-context.js';
import { EVENT_STREAM_HEADERS, JobEventStream } from '../jobs/job-event-stream.js';
import { requireJobRecord } from '../jobs/job-records.js';
import { JobParamsSchema, problemResponses } from '../schemas.js';

/** The stream sequence a reconnecting client has seen, from its `Last-Event-ID` header; 0 when none. */
function resumePoint(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}

/** Declares the event stream route. */
export function registerJobEventRoutes(app: ApiInstance, ctx: AppContext): void {
  app.get(
    '/v1/jobs/:id/events',
    {
      // Answered apart (below): run as a GET, a HEAD would hold a stream open for nothing.
      exposeHeadRoute: false,
      schema: {
        tags: ['jobs'],
        summary: 'Follow a job',
        description:
          'Server-Sent Events: everything so far, then live. `event: task` for every finished task ' +
          '(data: the task completion with `jobId`), then one `event: job` with the final status (and error), ' +
          'after which the stream ends. Events carry ids: reconnect with `Last-Event-ID` to resume. ' +
          'Comment lines are sent every 15 s as heartbeats.',
        params: JobParamsSchema,
        headers: z.looseObject({
          'last-event-id': z.string().optional().describe('Id of the last event received, to resume after it.'),
        }),
        response: {
          200: {
            description: 'An event stream.',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          ...problemResponses(404, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireJobRecord(ctx.infra.jobs, id);
      reply.hijack();
      // Hijacked replies skip fastify's header handling: keep the request id.
      reply.raw.setHeader('x-request-id', request.id);
      const stream = new JobEventStream(ctx.infra, id, reply.raw, request.log, ctx.eventStreams);
      await stream.run(resumePoint(request.headers['last-event-id']), ctx.shutdown);
    },
  );

  // What a GET would start with, and no stream (undocumented, as other HEADs of GETs).
  app.head('/v1/jobs/:id/events', { schema: { hide: true, params: JobParamsSchema } }, async (request, reply) => {
    const { id } = request.params;
    await requireJobRecord(ctx.infra.jobs, id);
    reply.hijack();
    reply.raw.writeHead(200, { ...EVENT_STREAM_HEADERS, 'x-request-id': request.id });
    reply.raw.end();
    return reply;
  });
}

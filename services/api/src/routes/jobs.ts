/**
 * Job submission, status, listing and cancellation: `POST /v1/jobs`, `GET /v1/jobs/:id`,
 * `GET /v1/jobs`, `POST /v1/jobs/:id/cancel`.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyRouteSchemaDef, FastifyValidationResult } from 'fastify/types/schema.js';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  cancelJob,
  createJobRecord,
  JobNodeSchema,
  JobNotFoundError,
  prepareJob,
  publishJob,
  publishStart,
  storeJobSpec,
} from '@weft/shared';
import { requestSignal, type ApiInstance, type AppContext } from '../app-context.js';
import { isTerminal, readJobRecord } from '../jobs/job-records.js';
import { jobPath, StreamedJobView } from '../jobs/job-views.js';
import { IDEMPOTENCY_KEY_HEADER, IdempotencyKeySchema } from '../jobs/submission-keys.js';
import {
  CancelJobBodySchema,
  JobAcceptedSchema,
  JobListQuerySchema,
  JobListSchema,
  JobParamsSchema,
  JobViewSchema,
  jsonResponse,
  type JobView,
  problemResponses,
  waitQuerySchema,
} from '../schemas.js';

/** How long a waiting submission gives the job to finish before creating its `queued` record, in milliseconds. */
const QUICK_FINISH_MS = 50;

/** Headers of `POST /v1/jobs`. */
const SubmitHeadersSchema = z.object({ [IDEMPOTENCY_KEY_HEADER]: IdempotencyKeySchema.optional() });

/**
 * Validates every request part with zod except the body, which is passed through
 * untouched: a job spec is validated by `prepareJob`, whose errors carry JSON
 * Pointers into the spec. The body schema is on the route for the OpenAPI document.
 */
function validateAllButBody<S>(route: FastifyRouteSchemaDef<S>): FastifyValidationResult {
  if (route.httpPart === 'body') return (data: unknown) => ({ value: data });
  // Fastify types `route.schema` as the whole route schema; it is the part's zod schema.
  return validatorCompiler(route as FastifyRouteSchemaDef<unknown> as FastifyRouteSchemaDef<z.ZodType>);
}

/**
 * Sends a full job view with status `code`. A streamed view goes out as its JSON
 * text, which fastify passes through without the route's serializer.
 */
function sendJobView(reply: FastifyReply, code: 200 | 202, view: JobView | StreamedJobView): FastifyReply {
  if (!(view instanceof StreamedJobView)) return reply.code(code).send(view);
  void reply.code(code).type('application/json; charset=utf-8');
  // A HEAD request's body is dropped, so the result is not read for it.
  return reply.send(reply.request.method === 'HEAD' ? Readable.from([]) : view.toStream());
}

/** Declares the job routes. */
export function registerJobRoutes(app: ApiInstance, ctx: AppContext): void {
  const { config, infra, catalogue, values, views, waiter, submissions, listing } = ctx;
  const WaitQuerySchema = waitQuerySchema(config.maxWaitMs);
  const limits = { maxNodes: config.maxSpecNodes, maxDepth: config.maxSpecDepth, maxChunks: config.maxChunks, maxTasks: config.maxTasks };

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Submit a job',
        description:
          'Validates the job spec and starts the job. Without `wait` the answer is 202 with the new job and a ' +
          '`Location` header; with `wait` the request waits up to that many seconds: 200 with the finished job, ' +
          'or 202 with the job as it is.',
        body: JobNodeSchema,
        querystring: WaitQuerySchema,
        headers: SubmitHeadersSchema,
        response: {
          200: jsonResponse(JobViewSchema, 'The job finished within the wait.'),
          202: jsonResponse(
            z.union([JobViewSchema, JobAcceptedSchema]),
            'The job is accepted: the short view without `wait`, else the job as it is when the wait ended.',
          ),
          ...problemResponses(400, 410, 413, 415, 422, 503),
        },
      },
      validatorCompiler: validateAllButBody,
    },
    async (request, reply) => {
      // Untrusted: the route schema does not validate the body (see validateAllButBody).
      const body: unknown = request.body;
      const signal = requestSignal(reply, ctx.shutdown);
      const { wait } = request.query;
      const key = request.headers[IDEMPOTENCY_KEY_HEADER];
      /**
       * Answers a repeated request with the job its key made, if that job has a record.
       * @returns whether it did (a reply is thenable: awaited, it would not tell)
       */
      const answerRepeat = async (jobId: string): Promise<boolean> => {
        void reply.header('location', jobPath(jobId)).header('idempotent-replayed', 'true');
        const existing = await readJobRecord(infra.jobs, jobId);
        if (existing === undefined) return false;
        const current = wait === undefined || isTerminal(existing) ? existing : ((await waiter.wait(jobId, wait * 1000, signal)) ?? existing);
        request.log.info({ jobId }, 'job submitted again: answered with the job its key made');
        if (wait === undefined) void reply.code(202).send(views.accepted(current));
        else void sendJobView(reply, isTerminal(current) ? 200 : 202, await views.full(current));
        return true;
      };
      // A repeat is answered before the spec is prepared again: its files may have changed.
      let claim = key === undefined ? undefined : await submissions.find(key, body);
      if (claim !== undefined && (await answerRepeat(claim.jobId))) return reply;
      let prepared = await prepareJob(body, catalogue, limits, {
        files: { store: ctx.files, dataRoot: config.dataRoot, urlInputs: config.urlInputs, signal },
      });
      if (key !== undefined && claim === undefined) {
        claim = await submissions.claim(key, body, prepared.id);
        if (claim.repeated && (await answerRepeat(claim.jobId))) return reply;
      }
      if (claim?.repeated === true) {
        // No record yet: the first request is still starting the job, or died before
        // it did. Starting it under its id is safe either way (the start item's
        // message id makes JetStream store it once).
        prepared = { ...prepared, id: claim.jobId, record: { ...prepared.record, id: claim.jobId } };
      }
      void reply.header('location', jobPath(prepared.id));
      const submitted = () =>
        request.log.info({ jobId: prepared.id, kind: prepared.record.kind, tasks: prepared.plan.taskCount }, 'job submitted');
      /** Logs the queues the job just submitted waits on, if any. */
      const noteWarnings = (view: Pick<JobView, 'warnings'>) => {
        const queues = view.warnings?.map((w) => w.queue);
        // Information, not a warning: a pool scaled to zero until work arrives is no fault.
        if (queues) request.log.info({ jobId: prepared.id, queues }, 'job waits on queues no live worker pulls from');
      };
      const onIndexFailure = (err: unknown) =>
        request.log.warn({ err, jobId: prepared.id }, 'job started, but its job index entry was not written: listings leave it out');
      if (wait === undefined) {
        await publishJob(infra, values, prepared, { onIndexFailure });
        submitted();
        const accepted = views.accepted(prepared.record);
        noteWarnings(accepted);
        return reply.code(202).send(accepted);
      }
      const spec = await storeJobSpec(values, prepared);
      // Watch before publishing, so that not even the quickest finish is missed. The
      // subscriptions go out in the same write as the start item.
      const watch = waiter.watch(prepared.id);
      try {
        const waitMs = wait * 1000;
        // A job that finishes at once needs no `queued` record: the worker writes the
        // finished one. Otherwise the record is created before waiting on.
        await publishStart(infra, prepared, spec, { createRecord: false, onIndexFailure });
        submitted();
        let record = await watch.terminalWithin(Math.min(waitMs, QUICK_FINISH_MS), signal);
        if (!record) {
          await createJobRecord(infra, prepared);
          record =
            (await watch.terminalWithin(waitMs - QUICK_FINISH_MS, signal)) ?? (await watch.read()) ?? prepared.record;
        }
        const view = await views.full(record);
        if (!(view instanceof StreamedJobView)) noteWarnings(view);
        return sendJobView(reply, isTerminal(record) ? 200 : 202, view);
      } finally {
        watch.close();
      }
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Get a job',
        description:
          'The job with its result once it succeeded. With `wait`, waits up to that many seconds for it to finish first.',
        params: JobParamsSchema,
        querystring: WaitQuerySchema,
        response: { 200: jsonResponse(JobViewSchema, 'The job.'), ...problemResponses(400, 404, 410, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { wait } = request.query;
      const record =
        wait === undefined
          ? await readJobRecord(infra.jobs, id)
          : await waiter.wait(id, wait * 1000, requestSignal(reply, ctx.shutdown));
      if (record === undefined) throw new JobNotFoundError(id);
      return sendJobView(reply, 200, await views.full(record));
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job',
        description:
          'Ends a queued or running job with status `cancelled` (its `error` says why). Tasks not started yet are ' +
          'not run, and workers abort those running. Cancelling a cancelled job again answers the same; a job that ' +
          'succeeded or failed first answers 409 `JOB_ENDED`. The body may be left out.',
        params: JobParamsSchema,
        body: CancelJobBodySchema,
        response: { 200: jsonResponse(JobViewSchema, 'The job, cancelled.'), ...problemResponses(400, 404, 409, 410, 415, 503) },
      },
    },
    async (request, reply) => {
      const reason = request.body?.reason;
      const { record, cancelled } = await cancelJob(infra, request.params.id, reason === undefined ? {} : { reason });
      if (cancelled) request.log.info({ jobId: record.id, reason }, 'job cancelled');
      return sendJobView(reply, 200, await views.full(record));
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List recent jobs',
        description:
          'The most recent jobs first, in the order they were accepted, optionally only those in one status; ' +
          'results are left out. Follow `next` for older jobs.',
        querystring: JobListQuerySchema,
        response: { 200: jsonResponse(JobListSchema, 'Recent jobs.'), ...problemResponses(400, 503) },
      },
    },
    async (request) => {
      const { status, limit } = request.query;
      const page = await listing.list(request.query);
      const jobs = page.records.map((record) => views.summary(record));
      if (page.next === undefined) return { jobs };
      const query = new URLSearchParams({ ...(status === undefined ? {} : { status }), limit: String(limit), cursor: page.next });
      return { jobs, next: `/v1/jobs?${query.toString()}` };
    },
  );
}

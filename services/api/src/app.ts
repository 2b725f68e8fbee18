/**
 * The HTTP application: routes, JSON handling, errors and the OpenAPI document, on
 * NATS resources provided by the caller. Nothing here listens or handles signals
 * (see `server.ts`), so tests drive it with `inject` or `listen` on port 0.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { IncomingMessage } from 'node:http';
import Fastify from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openFileStore, TaskCatalogue, ValueStore, type ApiConfig, type Infrastructure, type Logger } from '@weft/shared';
import { createErrorHandler, MethodNotAllowedError, RouteNotFoundError } from './api-errors.js';
import { answerClientError, answerUnmetExpectation, missingHost } from './connection-errors.js';
import { RouteMethods } from './route-methods.js';
import { unsupportedCoding } from './request-codings.js';
import type { ApiInstance, AppContext } from './app-context.js';
import { openClusterAccess } from './cluster/cluster-access.js';
import { WorkerCluster } from './cluster/worker-cluster.js';
import { UploadSweeper } from './files/upload-sweeper.js';
import { ReadinessProbe } from './health/readiness-probe.js';
import { installJsonContent } from './json-content.js';
import type { JobEventStreamOptions } from './jobs/job-event-stream.js';
import { JobListing } from './jobs/job-listing.js';
import { JobViews } from './jobs/job-views.js';
import { JobWaiter } from './jobs/job-waiter.js';
import { SubmissionKeys } from './jobs/submission-keys.js';
import { registerOpenApi } from './openapi.js';
import { registerFileRoutes } from './routes/files.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerJobEventRoutes } from './routes/job-events.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerWorkerRoutes } from './routes/workers.js';
import { WorkerPresence } from './workers/worker-presence.js';

/** What {@link buildApp} needs. */
export interface BuildAppOptions {
  readonly config: ApiConfig;
  /** Opened JetStream resources (see `provisionInfrastructure`); the caller owns the connection. */
  readonly infra: Infrastructure;
  /** Logger of the application and its requests. */
  readonly logger: Logger;
  /** Tasks jobs may use. @default the built-in catalogue */
  readonly catalogue?: TaskCatalogue;
  /** Timing of event streams. @default heartbeats every 15 s, 2 s grace for missing job events */
  readonly eventStreams?: Partial<JobEventStreamOptions>;
}

/** How much longer than the longest wait a connection may stay idle, in milliseconds. */
const IDLE_GRACE_MS = 60_000;

/** Longest path parameter routed, in characters: Node.js limits a request's head to 16 KiB. */
const MAX_PATH_PARAM_CHARS = 16 * 1024;

/** Request ids supplied by clients (or proxies) in `x-request-id` are kept when they look sane. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(request: IncomingMessage): string {
  const supplied = request.headers['x-request-id'];
  return typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
}

/**
 * Builds the application. The returned instance is not listening; `app.close()` ends
 * pending waits and event streams but leaves the NATS connection to the caller.
 * @throws ConfigError when the configured kubeconfig cannot be loaded
 */
export async function buildApp(options: BuildAppOptions): Promise<ApiInstance> {
  const { config, infra, logger } = options;
  const clusterAccess = await openClusterAccess(config);
  if (clusterAccess.available) {
    const { namespace, server } = clusterAccess.client;
    const pools = config.k8sWorkerPools.map((p) => p.pool);
    logger.info({ mode: clusterAccess.mode, server, namespace, pools }, 'Kubernetes cluster access configured');
  } else {
    logger.info({ reason: clusterAccess.reason }, 'no Kubernetes cluster: worker pods and pool scaling are unavailable');
  }

  const errorHandler = createErrorHandler({ bodyLimitBytes: config.bodyLimitBytes });
  const app: ApiInstance = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestId,
    frameworkErrors: errorHandler,
    clientErrorHandler: answerClientError,
    // A connection idle for longer than any wait (SSE streams send heartbeats) is
    // given up, so a client that stops sending mid-upload does not hold it for good.
    connectionTimeout: config.maxWaitMs + IDLE_GRACE_MS,
    // A path parameter as long as a request line can be: a long id is then simply not
    // found (or not a valid name), not an odd 414 from the router.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS },
    // Node.js would answer a request without Host (and an Expect it does not know) with
    // an empty body: they are answered below, with problem details.
    http: { requireHostHeader: false },
  }).withTypeProvider<ZodTypeProvider>();
  app.server.on('checkExpectation', answerUnmetExpectation);

  const shutdown = new AbortController();
  // Every request waiting on a job listens for shutdown; there may be thousands at once.
  setMaxListeners(0, shutdown.signal);
  app.addHook('preClose', (done) => {
    shutdown.abort();
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // HTTP/1.1 requires Host (RFC 9112, section 3.2).
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) done(missingHost());
    else done(unsupportedCoding(request.method, request.headers));
  });
  // Closing waits for every connection to end: a kept-alive one answered during
  // shutdown (a wait cut short, say) would otherwise hold it until its idle timeout.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.signal.aborted) void reply.header('connection', 'close');
    done(null, payload);
  });

  app.setValidatorCompiler(validatorCompiler);
  installJsonContent(app);
  app.setErrorHandler(errorHandler);
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', (route) => {
    routeMethods.add(route.url, route.method);
    // A plugin's root route is served with a trailing slash too, without a hook call of its own.
    if (route.routePath === '' && route.prefix !== '') routeMethods.add(`${route.url}/`, route.method);
  });
  app.setNotFoundHandler((request, reply) => {
    const allowed = routeMethods.allowed(request.url);
    // None, or a path the patterns match but the router does not: nothing is there.
    if (allowed.length === 0 || allowed.includes(request.method)) return void reply.send(new RouteNotFoundError(request.method, request.url));
    void reply.header('allow', allowed.join(', ')).send(new MethodNotAllowedError(request.method, request.url, allowed));
  });
  await registerOpenApi(app);

  const values = new ValueStore(infra, config.inlineValueMaxBytes);
  const files = openFileStore(infra, config);
  const sweeper = new UploadSweeper(files, infra, config.fileOrphanGraceMs, logger);
  const presence = new WorkerPresence(infra, logger);
  app.addHook('onReady', (done) => {
    sweeper.start();
    presence.start();
    done();
  });
  app.addHook('onClose', async () => {
    await Promise.all([sweeper.close(), presence.close()]);
  });
  const ctx: AppContext = {
    config,
    infra,
    catalogue: options.catalogue ?? TaskCatalogue.builtin(),
    values,
    files,
    views: new JobViews(values, presence),
    listing: new JobListing(infra),
    waiter: new JobWaiter(infra, logger),
    submissions: new SubmissionKeys(infra.state),
    readiness: new ReadinessProbe(infra),
    cluster: new WorkerCluster(clusterAccess, config, logger),
    eventStreams: { heartbeatMs: 15_000, endGraceMs: 2_000, ...options.eventStreams },
    shutdown: shutdown.signal,
  };
  registerJobRoutes(app, ctx);
  registerJobEventRoutes(app, ctx);
  await registerFileRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  return app;
}

/**
 * What the routes share: configuration, NATS resources and the services built on them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiConfig, FileStore, Infrastructure, Logger, TaskCatalogue, ValueStore } from '@weft/shared';
import type { WorkerCluster } from './cluster/worker-cluster.js';
import type { ReadinessProbe } from './health/readiness-probe.js';
import type { JobEventStreamOptions } from './jobs/job-event-stream.js';
import type { JobListing } from './jobs/job-listing.js';
import type { JobViews } from './jobs/job-views.js';
import type { JobWaiter } from './jobs/job-waiter.js';
import type { SubmissionKeys } from './jobs/submission-keys.js';

/** The fastify instance the routes are declared on: zod schemas type requests and replies; logs go to pino. */
export type ApiInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

/** Dependencies of the routes. */
export interface AppContext {
  readonly config: ApiConfig;
  readonly infra: Infrastructure;
  readonly catalogue: TaskCatalogue;
  readonly values: ValueStore;
  /** The built-in file store. */
  readonly files: FileStore;
  readonly views: JobViews;
  readonly listing: JobListing;
  readonly waiter: JobWaiter;
  /** Idempotency keys of submissions. */
  readonly submissions: SubmissionKeys;
  readonly readiness: ReadinessProbe;
  /** Worker pods and pools on Kubernetes, when there is a cluster. */
  readonly cluster: WorkerCluster;
  readonly eventStreams: JobEventStreamOptions;
  /** Aborted when the application closes: waits return early and event streams end. */
  readonly shutdown: AbortSignal;
}

/** A signal that aborts when the client goes away or the application closes. */
export function requestSignal(reply: FastifyReply, shutdown: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (shutdown.aborted) {
    controller.abort(shutdown.reason);
    return controller.signal;
  }
  const onShutdown = () => controller.abort(shutdown.reason);
  shutdown.addEventListener('abort', onShutdown, { once: true });
  reply.raw.once('close', () => {
    shutdown.removeEventListener('abort', onShutdown);
    // After a complete response nobody listens any more: aborting would only cost an exception object per request.
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * @weft/worker: pulls work items from NATS JetStream, runs tasks on a piscina
 * thread pool, records results and advances jobs.
 */
export { Worker, type WorkerOptions, type WorkerState } from './worker.js';
export type { WorkerStats } from './heartbeat.js';
export {
  JobStoppedError,
  TaskAttemptError,
  TaskTimeoutError,
  PermanentFailureError,
  PoisonWorkItemError,
  WorkerClosingError,
} from './errors.js';

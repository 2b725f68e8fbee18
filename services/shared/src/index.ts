/**
 * @weft/shared: the contracts every Weft process agrees on — job specs and plans,
 * NATS message schemas, resource names, configuration, errors and the task catalogue.
 */
export * from './names.js';
export * from './errors.js';
export * from './config.js';
export * from './messages.js';
export * from './ids.js';
export * from './json-codec.js';
export * from './logger.js';
export * from './spec/index.js';
export * from './plan/index.js';
export * from './tasks/index.js';
export * from './files/index.js';
export { connectNats, type ConnectNatsOptions } from './nats/connect.js';
export { provisionInfrastructure, WORKER_HEARTBEAT_TTL_MS, type Infrastructure } from './nats/infrastructure.js';
export { discardJobValues, ValueStore, type SendableValue, type StoreOptions } from './nats/value-store.js';
export { bucketKeys } from './nats/bucket-keys.js';
export { isNatsUnavailable, isWrongLastSequence } from './nats/jetstream-errors.js';
export { parseWriteAck, type WriteAck } from './nats/write-acks.js';
export { JetStreamWriter, type JetStreamWriterOptions, type StoredWrite, type WriteOptions } from './nats/jetstream-writer.js';
export {
  createJobRecord,
  prepareJob,
  publishJob,
  publishStart,
  storeJobSpec,
  type PreparedJob,
  type PrepareJobOptions,
  type PublishJobOptions,
} from './jobs/job-submission.js';
export { jobEndEventId, publishJobEvent, type JobEventPublisher } from './jobs/job-events.js';
export {
  cancelJob,
  JOB_CANCELLED,
  MAX_CANCEL_REASON_LENGTH,
  type CancelJobOptions,
  type CancelOutcome,
} from './jobs/job-cancellation.js';
export { exitOnSignals } from './process-signals.js';
export { setBounded } from './bounded-map.js';
export * from './file-store/index.js';
export * from './file-inputs/index.js';

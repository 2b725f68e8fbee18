/**
 * Test and benchmark helpers, exported as `@weft/shared/testing`. Not for
 * production code: nothing in here is hardened for it.
 */
export { findNatsServerBinary } from './nats-server-binary.js';
export { freePort, freePorts } from './free-ports.js';
export { collectMessages, type MessageCollector } from './message-collector.js';
export { startNatsServer } from './nats-server.js';
export { until } from './until.js';
export type { NatsServerOptions, RunningNatsServer } from './nats-server.js';

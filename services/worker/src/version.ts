import { createRequire } from 'node:module';

/** The worker package's version, reported in heartbeats. */
export const WORKER_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

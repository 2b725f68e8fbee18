import { createRequire } from 'node:module';

/** The API package's version, shown in the OpenAPI document. */
export const API_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export * from './job-spec.js';
export * from './node-options.js';
export { parseJobSpec, type SpecLimits } from './parse-job-spec.js';

export * from './job-spec.js';
export * from './node-options.js';
export { parseJobSpec, SAVE_TASK, type ParseJobSpecOptions, type SpecLimits } from './parse-job-spec.js';

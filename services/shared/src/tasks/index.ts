/**
 * The built-in task catalogue and the contract for task implementations.
 */
export { builtinTasks, invalidArgsError, TaskCatalogue } from './catalogue.js';
export type { ParseArgsResult, TaskArgIssue, TaskDescription } from './catalogue.js';
export { defineTask, isPermanentTaskError, PermanentTaskError } from './task-definition.js';
export type { TaskContext, TaskDefinition } from './task-definition.js';
export {
  addExact,
  bigInteger,
  ExactSum,
  forEachNumeric,
  integer,
  isExactInteger,
  isRange,
  multiplyExact,
  nestedNumericList,
  numeric,
  numericInput,
  numericInputLength,
  numericList,
  rangeSchema,
  squareExact,
} from './numeric.js';
export type { NestedNumericList, Numeric, NumericInput, Range } from './numeric.js';
export { MAX_SQUARES_LENGTH } from './squares.js';
export { MAX_SLEEP_MS } from './sleep.js';
export { MAX_FIBONACCI_N } from './fibonacci.js';
export { DEFAULT_FAIL_MESSAGE } from './fail.js';
export { valueAsText } from './save.js';
export { isTextSplit, textSplit } from './text-split.js';
export type { TextSplit } from './text-split.js';
export { wordCountOptions, wordCountPartial, wordCountResult } from './word-count.js';
export type { WordCountOptions, WordCountPartial, WordCountResult } from './word-count.js';
export { textStatsPartial, textStatsResult } from './text-stats.js';
export type { TextStatsPartial, TextStatsResult } from './text-stats.js';
export { grepOptions, grepPartial, grepResult } from './grep.js';
export type { GrepOptions, GrepPartial, GrepResult, GrepSegment, SegmentMatch } from './grep.js';
export { transformOptions } from './transform.js';
export type { TransformOptions } from './transform.js';
export { compileLinePattern, MAX_PATTERN_LENGTH } from './line-pattern.js';
export type { LineMatcher } from './line-pattern.js';

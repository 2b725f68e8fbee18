import type { MapReduceInput } from '../spec/job-spec.js';

/** A chunk of a range input, as a map task receives it: `start` inclusive, `end` exclusive. */
export interface RangeChunk {
  readonly start: number;
  readonly end: number;
}

/**
 * The `index`-th chunk of a map-reduce input: a sub-range for range inputs (never
 * materialised), a slice of the items otherwise.
 */
export function chunkOf(input: MapReduceInput, chunkSize: number, index: number): RangeChunk | unknown[] {
  if ('range' in input) {
    const start = input.range.start + index * chunkSize;
    return { start, end: Math.min(start + chunkSize, input.range.end) };
  }
  return input.items.slice(index * chunkSize, (index + 1) * chunkSize);
}

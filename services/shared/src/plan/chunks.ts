import type { FileSplitRef } from '../file-inputs/file-input-schemas.js';
import type { MapReduceInput } from '../spec/job-spec.js';

/** A chunk of a range input, as a map task receives it: `start` inclusive, `end` exclusive. */
export interface RangeChunk {
  readonly start: number;
  readonly end: number;
}

/** Inputs that are cut into chunks as they are: everything but unresolved file inputs. */
export type ChunkableInput = Extract<MapReduceInput, { items: unknown } | { range: unknown } | { files: unknown }>;

/** Whether a map-reduce input is chunkable as it is (file inputs must be resolved first). */
export function isChunkable(input: MapReduceInput): input is ChunkableInput {
  return 'items' in input || 'range' in input || 'files' in input;
}

/** How many items (or bytes, for files) a chunkable input has. */
export function inputLength(input: ChunkableInput): number {
  if ('items' in input) return input.items.length;
  if ('range' in input) return input.range.end - input.range.start;
  return input.files.splits.reduce((total, [, start, end]) => total + (end - start), 0);
}

/**
 * The `index`-th chunk of a map-reduce input: a sub-range for range inputs (never
 * materialised), a slice of the items, or a split of a file, which the engine reads
 * into lines before the map task sees it.
 */
export function chunkOf(input: ChunkableInput, chunkSize: number, index: number): RangeChunk | unknown[] | FileSplitRef {
  if ('range' in input) {
    const start = input.range.start + index * chunkSize;
    return { start, end: Math.min(start + chunkSize, input.range.end) };
  }
  if ('files' in input) {
    const split = input.files.splits[index];
    const source = split && input.files.sources[split[0]];
    if (!split || !source) throw new RangeError(`file input has no split ${index}`);
    return { source, start: split[1], end: split[2] };
  }
  return input.items.slice(index * chunkSize, (index + 1) * chunkSize);
}

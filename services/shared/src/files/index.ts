/**
 * Reading files for map-reduce: byte-range splits, line-aligned reads and line decoding.
 */
export { memoryByteSource } from './byte-source.js';
export type { ByteSource } from './byte-source.js';
export { DEFAULT_SPLIT_BYTES, MAX_SPLIT_BYTES, planByteSplits } from './byte-splits.js';
export type { ByteSplit, ByteSplitOptions } from './byte-splits.js';
export { DEFAULT_READ_CHUNK_BYTES, readLineAlignedChunks, readLineAlignedRange } from './line-aligned-range.js';
export type { LineAlignedRangeOptions, LineAlignedReadOptions } from './line-aligned-range.js';
export { countLines, decodeText, iterateLines, iterateTextLines } from './lines.js';

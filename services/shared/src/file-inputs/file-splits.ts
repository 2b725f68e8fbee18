/**
 * Cutting resolved input files into splits, one map task each.
 */
import type { FileManifest } from '../file-store/file-manifest.js';
import { DEFAULT_SPLIT_BYTES, planByteSplits } from '../files/byte-splits.js';
import type { FileSource } from './file-input-schemas.js';

/** How to cut: bytes per split, or a target number of splits across all files. */
export interface FileSplitOptions {
  /** @default 8 MiB (DEFAULT_SPLIT_BYTES) */
  readonly splitBytes?: number;
  /** Target number of splits over all files together (used when `splitBytes` is not given). */
  readonly splits?: number;
}

/** A source with, for stored files, its manifest. */
export type SplittableSource = { readonly source: FileSource; readonly manifest?: FileManifest };

/**
 * The splits `[source index, start, end]` of `sources`, in input order. Stored
 * files are cut only between parts that end a line, so their splits are whole lines
 * as they are; other files are cut by bytes and read line-aligned. An empty file has
 * no splits; a URL without range support is one split.
 */
export function planFileSplits(sources: readonly SplittableSource[], options: FileSplitOptions): [number, number, number][] {
  const splits: [number, number, number][] = [];
  sources.forEach((source, i) => {
    for (const [start, end] of splitsOf(source, splitBytesOf(sources, options))) splits.push([i, start, end]);
  });
  return splits;
}

/** How many splits {@link planFileSplits} makes of `sources`, without making them. */
export function countFileSplits(sources: readonly SplittableSource[], options: FileSplitOptions): number {
  const splitBytes = splitBytesOf(sources, options);
  let count = 0;
  for (const source of sources) {
    const size = source.source.size ?? 0;
    if (source.source.kind === 'store' || (source.source.kind === 'url' && !source.source.ranged)) {
      for (const _ of splitsOf(source, splitBytes)) count++;
    } else if (size > 0) {
      count += Math.ceil(size / splitBytes);
    }
  }
  return count;
}

function splitBytesOf(sources: readonly SplittableSource[], options: FileSplitOptions): number {
  if (options.splitBytes !== undefined) return options.splitBytes;
  if (options.splits === undefined) return DEFAULT_SPLIT_BYTES;
  const total = sources.reduce((sum, { source }) => sum + (source.size ?? 0), 0);
  return Math.max(1, Math.ceil(total / options.splits));
}

function* splitsOf({ source, manifest }: SplittableSource, splitBytes: number): Generator<[number, number]> {
  if (source.kind === 'url' && !source.ranged) {
    yield [0, source.size ?? 0];
  } else if (source.kind === 'store') {
    if (!manifest) throw new Error(`stored file ${source.name} has no manifest`);
    yield* partAlignedSplits(manifest, splitBytes);
  } else {
    for (const { start, end } of planByteSplits(source.size ?? 0, { splitBytes })) yield [start, end];
  }
}

/** Splits of a stored file at part boundaries that end a line, each at least `splitBytes` (but the last). */
function* partAlignedSplits(manifest: FileManifest, splitBytes: number): Generator<[number, number]> {
  const cut = new Set(manifest.cut);
  let start = 0;
  let at = 0;
  for (const [index, [, bytes]] of manifest.parts.entries()) {
    at += bytes;
    if (at - start >= splitBytes && !cut.has(index)) {
      yield [start, at];
      start = at;
    }
  }
  if (at > start) yield [start, at];
}

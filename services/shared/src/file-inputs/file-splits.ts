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
  const total = sources.reduce((sum, { source }) => sum + (source.size ?? 0), 0);
  const splitBytes =
    options.splitBytes ?? (options.splits === undefined ? DEFAULT_SPLIT_BYTES : Math.max(1, Math.ceil(total / options.splits)));
  const splits: [number, number, number][] = [];
  sources.forEach(({ source, manifest }, i) => {
    if (source.kind === 'url' && !source.ranged) {
      splits.push([i, 0, source.size ?? 0]);
    } else if (source.kind === 'store') {
      if (!manifest) throw new Error(`stored file ${source.name} has no manifest`);
      for (const [start, end] of partAlignedSplits(manifest, splitBytes)) splits.push([i, start, end]);
    } else {
      for (const { start, end } of planByteSplits(source.size ?? 0, { splitBytes })) splits.push([i, start, end]);
    }
  });
  return splits;
}

/** Splits of a stored file at part boundaries that end a line, each at least `splitBytes` (but the last). */
function partAlignedSplits(manifest: FileManifest, splitBytes: number): [number, number][] {
  const cut = new Set(manifest.cut);
  const out: [number, number][] = [];
  let start = 0;
  let at = 0;
  manifest.parts.forEach(([, bytes], index) => {
    at += bytes;
    if (at - start >= splitBytes && !cut.has(index)) {
      out.push([start, at]);
      start = at;
    }
  });
  if (at > start) out.push([start, at]);
  return out;
}

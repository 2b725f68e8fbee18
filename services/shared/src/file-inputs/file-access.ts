/**
 * Reading input files and splits, and writing stored files, as the worker does for
 * tasks: one place that knows the three kinds of sources.
 */
import { z } from 'zod';
import { setBounded } from '../bounded-map.js';
import { FileChangedError, FileNotFoundError, SplitTooLargeError } from '../errors.js';
import type { FileManifest } from '../file-store/file-manifest.js';
import type { FileStore } from '../file-store/file-store.js';
import { FileNameSchema } from '../file-store/file-names.js';
import { MAX_SPLIT_BYTES } from '../files/byte-splits.js';
import { readLineAlignedRange } from '../files/line-aligned-range.js';
import { sourceName, type FileSplitRef } from './file-input-schemas.js';
import { readUrl, urlByteSource } from './url-files.js';
import { openVolumeFile, resolveVolumePath, VolumePathSchema } from './volume-files.js';

/** One whole file, as a task argument: `{"file": "a.txt"}`, `{"path": "data/a.txt"}` or `{"url": "https://…"}`. */
export const FileRefSchema = z.union([
  z.strictObject({ file: FileNameSchema }),
  z.strictObject({ path: VolumePathSchema }),
  z.strictObject({ url: z.url({ protocol: /^https?$/ }) }),
]);
export type FileRef = z.infer<typeof FileRefSchema>;

/** The lines of one split, as a map task receives them. */
export interface SplitText {
  /** Name of the file the split belongs to. */
  readonly file: string;
  /** Whole lines. */
  readonly bytes: Uint8Array;
}

/** A split of a file on the shared volume, located: readable from any thread of the process. */
export interface LocalSplit {
  /** Name the task sees (relative to the volume). */
  readonly file: string;
  /** Absolute path, checked to lie inside the volume. */
  readonly path: string;
  readonly size: number;
  /** When it was last written as the job was submitted, if known (see `VolumeFile`). */
  readonly mtimeMs?: number | undefined;
  readonly start: number;
  readonly end: number;
}

/** File access for tasks and the engine. */
export interface FileAccess {
  /** Where a split of a shared-volume file is, for reading it elsewhere; `undefined` for other sources. */
  locate(ref: FileSplitRef): Promise<LocalSplit | undefined>;
  /** The lines of a split of a resolved file input. @throws FileChangedError when a stored file was replaced since submission */
  readSplit(ref: FileSplitRef, signal?: AbortSignal): Promise<SplitText>;
  /** The whole content of a file, streamed in order. */
  read(ref: FileRef, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** Stores `data` as file `name` (replacing any file of that name). */
  write(name: string, data: AsyncIterable<Uint8Array> | Uint8Array | string, contentType: string): Promise<FileManifest>;
}

/** Manifests kept by upload id: a pinned upload never changes. */
const MANIFEST_CACHE_SIZE = 256;

/** File access over the file store and the shared volume at `dataRoot`. */
export function createFileAccess(store: FileStore, dataRoot: string | undefined): FileAccess {
  const manifests = new Map<string, Promise<FileManifest>>();
  const pinned = (name: string, id: string): Promise<FileManifest> => {
    let found = manifests.get(id);
    if (!found) {
      found = store.require(name).then((m) => {
        if (m.id !== id) throw new FileChangedError(`stored file ${JSON.stringify(name)} was replaced after the job was submitted`);
        return m;
      });
      found.catch(() => manifests.delete(id));
      setBounded(manifests, id, found, MANIFEST_CACHE_SIZE);
    }
    return found;
  };
  const volumeRoot = (): string => {
    if (dataRoot === undefined) throw new FileNotFoundError('(no shared volume is configured: WEFT_DATA_ROOT)');
    return dataRoot;
  };

  const locate = async ({ source, start, end }: FileSplitRef): Promise<LocalSplit | undefined> => {
    if (source.kind !== 'volume') return undefined;
    const { absolute } = await resolveVolumePath(volumeRoot(), source.path);
    return { file: source.path, path: absolute, size: source.size, mtimeMs: source.mtimeMs, start, end };
  };

  return {
    locate,

    async readSplit({ source, start, end }, signal) {
      const file = sourceName(source);
      switch (source.kind) {
        case 'store':
          // Stored splits end at line ends already, so their size is known.
          if (end - start > MAX_SPLIT_BYTES) throw tooLarge(file, start, end);
          return { file, bytes: await store.readRange(await pinned(source.name, source.id), start, end, signal) };
        case 'volume':
          return readLocalSplit((await locate({ source, start, end })) as LocalSplit, signal);
        case 'url':
          if (source.ranged && source.size !== null) {
            return { file, bytes: await readLineAlignedRange(urlByteSource(source.url, source.size, source.etag), start, end, { signal }) };
          }
          // One split of all of it: no more than the server said, nor than a split may hold.
          if ((source.size ?? 0) > MAX_SPLIT_BYTES) throw tooLarge(file, 0, source.size ?? 0);
          return {
            file,
            bytes: await collect(
              readUrl(source.url, { ...(signal ? { signal } : {}), ...(source.etag ? { etag: source.etag } : {}), size: source.size, maxBytes: MAX_SPLIT_BYTES }),
            ),
          };
      }
    },

    async *read(ref, signal) {
      if ('file' in ref) {
        const manifest = await store.require(ref.file);
        yield* store.read(manifest, 0, manifest.size, signal);
      } else if ('path' in ref) {
        const { absolute, size, mtimeMs } = await resolveVolumePath(volumeRoot(), ref.path);
        const source = await openVolumeFile(absolute, { size, mtimeMs }, ref.path);
        try {
          for (let at = 0; at < size; at += READ_CHUNK_BYTES) {
            signal?.throwIfAborted();
            yield await source.read(at, READ_CHUNK_BYTES);
          }
        } finally {
          await source.close();
        }
      } else {
        yield* readUrl(ref.url, signal ? { signal } : {});
      }
    },

    write(name, data, contentType) {
      const body = typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
      return store.put(name, toAsync(body), { contentType });
    },
  };
}

const READ_CHUNK_BYTES = 1024 * 1024;

function tooLarge(file: string, start: number, end: number): SplitTooLargeError {
  return new SplitTooLargeError(`the split of ${file} at bytes ${start}-${end - 1} holds more than ${MAX_SPLIT_BYTES} bytes: a line is too long`);
}

/** Bytes read past a local split's end at once, for the rest of its last line. */
const LOCAL_READ_SLACK_BYTES = 64 * 1024;
/** Largest single read of a local split, in bytes. */
const LOCAL_READ_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The lines of a located split of a shared-volume file; any thread of the process may read it.
 * @throws FileNotFoundError when the file is gone
 * @throws FileChangedError when it changed since the job was submitted
 * @throws SplitTooLargeError when its lines hold more than a split may
 */
export async function readLocalSplit(split: LocalSplit, signal?: AbortSignal): Promise<SplitText> {
  const opened = await openVolumeFile(split.path, split, split.file);
  // Usually one read: the split and the end of its last line.
  const chunkBytes = Math.min(split.end - split.start + LOCAL_READ_SLACK_BYTES, LOCAL_READ_MAX_BYTES);
  try {
    return { file: split.file, bytes: await readLineAlignedRange(opened, split.start, split.end, { chunkBytes, ...(signal ? { signal } : {}) }) };
  } finally {
    await opened.close();
  }
}

async function* toAsync(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

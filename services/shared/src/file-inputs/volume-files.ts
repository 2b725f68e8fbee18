/**
 * Files on the shared volume: a directory every worker (and the API) mounts, e.g. a
 * PersistentVolumeClaim. Inputs name files relative to its root; nothing outside
 * the root is reachable, not even through symbolic links.
 */
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { escapePath, glob as walk } from 'tinyglobby';
import { GlobPattern } from './glob-pattern.js';
import { FileChangedError, FileNotFoundError } from '../errors.js';
import { fileNameProblem } from '../file-store/file-names.js';
import type { ByteSource } from '../files/byte-source.js';

/** A file found on the volume. */
export interface VolumeFile {
  /** Path relative to the root, with `/` separators. */
  readonly path: string;
  readonly size: number;
  /** When it was last written, in milliseconds since the epoch (as `stat` tells). */
  readonly mtimeMs: number;
}

/** Why a volume path or pattern is not acceptable, or `undefined`. */
export function volumePatternProblem(pattern: string): string | undefined {
  const problem = fileNameProblem(pattern);
  return problem?.replace('a file name', 'a path');
}

/** A path on the shared volume, relative to its root (see {@link volumePatternProblem}). */
export const VolumePathSchema = z.string().superRefine((value, ctx) => {
  const problem = volumePatternProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * The absolute path of `relative` under `root`, after following symbolic links.
 * @throws FileNotFoundError when it does not exist, is not a regular file or lies outside the root; Error when it cannot be read
 */
export async function resolveVolumePath(root: string, relative: string): Promise<{ absolute: string; size: number; mtimeMs: number }> {
  const problem = volumePatternProblem(relative);
  if (problem !== undefined) throw new Error(problem);
  const realRoot = await realpath(root);
  const absolute = await realpath(path.join(realRoot, relative)).catch((err: unknown) => {
    // Only a missing file is for good; a volume not readable (yet) may be on the next try.
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' || code === 'ENOTDIR' ? new FileNotFoundError(relative) : err;
  });
  if (!absolute.startsWith(realRoot + path.sep)) throw new FileNotFoundError(relative, 'it lies outside the shared volume');
  const info = await stat(absolute);
  if (!info.isFile()) throw new FileNotFoundError(relative, 'it is not a regular file');
  return { absolute, size: info.size, mtimeMs: info.mtimeMs };
}

/**
 * The files matching `pattern` under `root`, sorted by path. A pattern without glob
 * characters names one file, which must exist.
 */
export async function findVolumeFiles(root: string, pattern: string): Promise<VolumeFile[]> {
  const problem = volumePatternProblem(pattern);
  if (problem !== undefined) throw new Error(problem);
  const glob = GlobPattern.parse(pattern);
  if (!glob.isGlob) {
    const { size, mtimeMs } = await resolveVolumePath(root, pattern);
    return [{ path: pattern, size, mtimeMs }];
  }
  const realRoot = await realpath(root);
  // The walk only lists what lies below the pattern's base, as deep as the pattern
  // reaches; the pattern itself is matched here, in linear time (see GlobPattern).
  // It passes symbolic links by (one to a folder could lead anywhere): a linked file
  // is reached by its exact path.
  const baseSegments = glob.base === '' ? 0 : glob.base.split('/').length;
  const walked = await walk(glob.base === '' ? '**' : `${escapePath(glob.base)}/**`, {
    cwd: realRoot,
    onlyFiles: true,
    dot: true,
    followSymbolicLinks: false,
    expandDirectories: false,
    ...(glob.depth === Infinity ? {} : { deep: baseSegments + glob.depth - 1 }),
  });
  const matches = walked.filter((match) => glob.matches(match));
  const files = await Promise.all(
    matches.sort().map(async (match) => {
      // A match below a base folder that is itself a link counts only inside the root.
      const resolved = await resolveVolumePath(realRoot, match).catch(() => undefined);
      return resolved ? { path: match, size: resolved.size, mtimeMs: resolved.mtimeMs } : undefined;
    }),
  );
  return files.filter((f): f is VolumeFile => f !== undefined);
}

/**
 * Random access to a file on the volume, through one open handle; `close()` when done.
 * @param absolute where the file is (see {@link resolveVolumePath})
 * @param version its size when it was resolved (inputs are cut into splits by it),
 *   and when it was last written then, if known
 * @param name its name as inputs give it, for errors
 * @throws FileNotFoundError when the file is gone
 * @throws FileChangedError when its size or time of writing is no longer that of
 *   `version`; its reads throw it too when the file is written while it is open
 */
export async function openVolumeFile(
  absolute: string,
  version: { readonly size: number; readonly mtimeMs?: number | undefined },
  name: string,
): Promise<ByteSource & { close(): Promise<void> }> {
  const { size } = version;
  let handle: FileHandle;
  try {
    handle = await open(absolute, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(name);
    throw err;
  }
  // Splits cut by the old size would cut the new content anywhere, not at line ends.
  // A file rewritten at the same size would mix two versions: its time of writing tells.
  let mtimeMs: number;
  try {
    mtimeMs = await checkVersion(handle, { size, mtimeMs: version.mtimeMs }, name);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return {
    size,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
      let at = 0;
      while (at < buffer.byteLength) {
        const { bytesRead } = await handle.read(buffer, at, buffer.byteLength - at, offset + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      // A write during the read (or since the file was opened) shows in the file's size
      // or time of writing now: the bytes read may then mix two versions, or stop short.
      await checkVersion(handle, { size, mtimeMs }, name);
      return buffer.subarray(0, at);
    },
    close: () => handle.close(),
  };
}

/**
 * Checks that the open file still has `version`'s size and, when given, time of writing.
 * @returns its time of writing
 * @throws FileChangedError when it has not
 */
async function checkVersion(
  handle: FileHandle,
  version: { readonly size: number; readonly mtimeMs?: number | undefined },
  name: string,
): Promise<number> {
  // Not fstatSync: on a network volume a stat may take a while.
  const now = await handle.stat();
  if (now.size !== version.size || (version.mtimeMs !== undefined && now.mtimeMs !== version.mtimeMs)) {
    const how = now.size === version.size ? 'written again at the same size' : `${version.size} bytes then, ${now.size} now`;
    throw new FileChangedError(`file ${JSON.stringify(name)} on the shared volume changed since the job was submitted (${how})`);
  }
  return now.mtimeMs;
}

/**
 * Names of stored files: relative, slash-separated paths such as `logs/2026/a.txt`.
 */
import { z } from 'zod';
import { InvalidFileNameError } from '../errors.js';

/** Longest file name, in bytes of UTF-8. @default 512 */
export const FILE_NAME_MAX_BYTES = 512;

const encoder = new TextEncoder();
// Control characters (C0, DEL, C1), and the Unicode line and paragraph separators.
const FORBIDDEN = /[\p{Cc}\u2028\u2029]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `name` is not an acceptable file name, or `undefined` when it is. A name is a
 * relative path of non-empty segments separated by `/`: no leading or trailing `/`,
 * no `.` or `..` segment, no backslash, no control characters, at most
 * {@link FILE_NAME_MAX_BYTES} bytes of UTF-8.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a file name must not be empty';
  if (encoder.encode(name).byteLength > FILE_NAME_MAX_BYTES) return `a file name has at most ${FILE_NAME_MAX_BYTES} bytes`;
  if (LONE_SURROGATE.test(name)) return 'a file name must be well-formed Unicode';
  if (FORBIDDEN.test(name)) return 'a file name must not contain control characters';
  if (name.includes('\\')) return 'a file name must not contain "\\"; use "/" between folders';
  if (name.startsWith('/')) return 'a file name must be relative (no leading "/")';
  for (const segment of name.split('/')) {
    if (segment === '') return 'a file name must not contain empty segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return 'a file name must not contain "." or ".." segments';
  }
  return undefined;
}

/**
 * Checks a file name. @param pointer where the name came from, for the error
 * @throws InvalidFileNameError
 */
export function assertFileName(name: string, pointer = ''): string {
  const problem = fileNameProblem(name);
  if (problem !== undefined) throw new InvalidFileNameError(name, problem, pointer);
  return name;
}

/** A file name (see {@link fileNameProblem}). */
export const FileNameSchema = z.string().superRefine((name, ctx) => {
  const problem = fileNameProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * The manifest of a stored file: what it is and where its parts are.
 */
import { z } from 'zod';

/**
 * A stored file. Its bytes are the concatenation of its parts, each a message of
 * the file data stream addressed by sequence number. Every part ends at the end of
 * a line, except those listed in `cut` (a line longer than the largest part), so a
 * run of whole parts that does not end in a cut part is a run of whole lines.
 */
export const FileManifestSchema = z.object({
  v: z.literal(1),
  /** The file's name, e.g. `logs/2026/a.txt`. */
  name: z.string(),
  /** Upload id: the parts are on the subject derived from it. */
  id: z.string().min(1),
  /** Size in bytes. */
  size: z.number().int().min(0),
  contentType: z.string(),
  /** SHA-256 of the whole content, hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** When the upload finished, ISO 8601. */
  createdAt: z.string(),
  /** The parts in order: `[stream sequence, bytes]`. */
  parts: z.array(z.tuple([z.number().int().min(1), z.number().int().min(1)])),
  /** Indices of parts that end inside a line. */
  cut: z.array(z.number().int().min(0)),
});
export type FileManifest = z.infer<typeof FileManifestSchema>;

/** What `GET /v1/files` shows about a file. */
export interface FileInfo {
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
  readonly sha256: string;
  readonly createdAt: string;
  readonly parts: number;
}

/** The public description of a stored file. */
export function fileInfo(manifest: FileManifest): FileInfo {
  const { name, size, contentType, sha256, createdAt } = manifest;
  return { name, size, contentType, sha256, createdAt, parts: manifest.parts.length };
}

/** Byte offset at which each part starts, plus the file size at the end. */
export function partOffsets(manifest: FileManifest): number[] {
  const offsets = new Array<number>(manifest.parts.length + 1);
  let at = 0;
  for (let i = 0; i < manifest.parts.length; i++) {
    offsets[i] = at;
    at += (manifest.parts[i] as [number, number])[1];
  }
  offsets[manifest.parts.length] = at;
  return offsets;
}

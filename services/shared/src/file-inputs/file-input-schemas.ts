/**
 * File inputs of a map-reduce, as users write them and as the API resolves them.
 */
import { z } from 'zod';
import { FileNameSchema } from '../file-store/file-names.js';

/** One string or a non-empty list of them. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1).max(10_000)]);
}

/** A name or glob pattern (`*`, `**`, `?`, `[…]`, `{a,b}`) relative to a root. */
const PatternSchema = z.string().min(1).max(1024);

const HttpUrlSchema = z
  .string()
  .max(8192)
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'expected an http:// or https:// URL');

/** Stored files by name or glob: `{"file": "notes.txt"}`, `{"file": ["a.txt", "logs/**\/*.txt"]}`. */
export const StoreFilesInputSchema = z.strictObject({ file: oneOrMany(PatternSchema) });
/** Files on the shared volume, relative to its root: `{"path": "data/*.txt"}`. */
export const VolumeFilesInputSchema = z.strictObject({ path: oneOrMany(PatternSchema) });
/** Files over HTTP(S), read in ranges when the server supports them: `{"url": "https://…"}`. */
export const UrlFilesInputSchema = z.strictObject({ url: oneOrMany(HttpUrlSchema) });

const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One resolved input file, pinned at submission. */
export const FileSourceSchema = z.discriminatedUnion('kind', [
  /** A stored file; `id` pins the upload, so a replaced file is noticed instead of mixed. */
  z.strictObject({ kind: z.literal('store'), name: FileNameSchema, id: z.string().min(1), size }),
  /** A file on the shared volume, relative to its root. */
  z.strictObject({ kind: z.literal('volume'), path: z.string().min(1), size, mtimeMs: z.number().nonnegative().optional() }),
  /** A file over HTTP(S); `ranged` when the server honours `Range` requests (then it is split by bytes). */
  z.strictObject({
    kind: z.literal('url'),
    url: z.string().min(1),
    size: size.nullable(),
    ranged: z.boolean(),
    /** Its strong entity tag at submission, when its server gave one: reads must find the same version. */
    etag: z.string().min(1).optional(),
  }),
]);
export type FileSource = z.infer<typeof FileSourceSchema>;

/**
 * File inputs as the API resolves them (never accepted from users): the files and
 * their splits `[source index, start byte, end byte]`, one map task per split.
 */
export const ResolvedFilesInputSchema = z.strictObject({
  files: z.strictObject({
    sources: z.array(FileSourceSchema),
    splits: z.array(z.tuple([z.number().int().min(0), size, size])),
  }),
});
export type ResolvedFilesInput = z.infer<typeof ResolvedFilesInputSchema>;

/** A split of a file input, as the engine reads it for a map task. */
export interface FileSplitRef {
  readonly source: FileSource;
  readonly start: number;
  readonly end: number;
}

/** The name a source is shown under (in splits, matches, errors). */
export function sourceName(source: FileSource): string {
  switch (source.kind) {
    case 'store':
      return source.name;
    case 'volume':
      return source.path;
    case 'url':
      return source.url;
  }
}

/** How a stored file is saved: `{"name": "results/stats.txt", "format": "text"}`. */
export const SaveOptionsSchema = z.strictObject({
  name: FileNameSchema,
  /** `json`: the value as JSON; `text`: `key: value` lines for objects, one line per item for lists. @default "json" */
  format: z.enum(['json', 'text']).optional(),
});
export type SaveOptions = z.infer<typeof SaveOptionsSchema>;

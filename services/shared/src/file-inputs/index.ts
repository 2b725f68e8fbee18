/**
 * File inputs of map-reduce jobs: schemas, resolution at submission, splits, and
 * reading them back on workers.
 */
export {
  FileSourceSchema,
  ResolvedFilesInputSchema,
  SaveOptionsSchema,
  StoreFilesInputSchema,
  UrlFilesInputSchema,
  VolumeFilesInputSchema,
  sourceName,
  type FileSource,
  type FileSplitRef,
  type ResolvedFilesInput,
  type SaveOptions,
} from './file-input-schemas.js';
export { createFileAccess, FileRefSchema, readLocalSplit, type FileAccess, type FileRef, type LocalSplit, type SplitText } from './file-access.js';
export { planFileSplits, type FileSplitOptions, type SplittableSource } from './file-splits.js';
export { resolveFileInputs, type FileInputContext } from './resolve-file-inputs.js';
export { findVolumeFiles, openVolumeFile, resolveVolumePath, type VolumeFile } from './volume-files.js';
export { probeUrl, readUrl, urlByteSource, type UrlProbe } from './url-files.js';

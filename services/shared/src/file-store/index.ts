/**
 * The built-in file store: names, manifests and the store itself.
 */
import type { CommonConfig } from '../config.js';
import type { Infrastructure } from '../nats/infrastructure.js';
import { FileStore } from './file-store.js';

export { FILE_NAME_MAX_BYTES, FileNameSchema, assertFileName, fileNameProblem } from './file-names.js';
export { FileManifestSchema, fileInfo, partOffsets, type FileInfo, type FileManifest } from './file-manifest.js';
export { FileStore, type FilePrecondition, type FileStoreDeps, type PutFileOptions, type SweepOptions, type UploadedParts } from './file-store.js';
export { lineAlignedParts, type LinePart } from './line-parts.js';
export { jobOfOutputUpload, outputUploadId } from './upload-ids.js';

/** Opens the file store of an installation. */
export function openFileStore(infra: Infrastructure, config: Pick<CommonConfig, 'filePartBytes'>): FileStore {
  const maxPayloadBytes = infra.nc.info?.max_payload ?? 1024 * 1024;
  return new FileStore({ js: infra.js, jsm: infra.jsm, names: infra.names, files: infra.files, maxPayloadBytes }, config.filePartBytes);
}

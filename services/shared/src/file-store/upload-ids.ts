/**
 * Upload ids: the subject token the parts of an upload are published under. A file
 * put through the API gets a random one; the `output` file of a map-reduce is
 * assembled in an upload named after its job and node, so that every worker writing
 * a piece of it agrees on the id and the job it belongs to can be told from it.
 */

const OUTPUT_UPLOAD = /^out_([0-9a-z]{26})_r[0-9a-z_-]*$/;

/** The upload the `output` file of map-reduce node `nodeId` of job `jobId` is assembled in. */
export function outputUploadId(jobId: string, nodeId: string): string {
  return `out_${jobId}_${nodeId.replaceAll('.', '_')}`;
}

/** The job whose `output` file upload `id` is, or `undefined` for an upload of another kind. */
export function jobOfOutputUpload(id: string): string | undefined {
  return OUTPUT_UPLOAD.exec(id)?.[1];
}

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FileRefSchema, type FileRef } from '../file-inputs/file-access.js';
import { FileNameSchema } from '../file-store/file-names.js';
import { defineTask } from './task-definition.js';

/** A file to read: a file reference, or a stored file's description (as an `output` map-reduce returns it). */
const ChecksumInputSchema = z.union([FileRefSchema, z.looseObject({ name: FileNameSchema })]);

/** `checksum(file)`: the SHA-256 of a whole file, read in order. */
export const checksumTask = defineTask({
  name: 'checksum',
  description:
    'The SHA-256 of a whole file (`{"file": …}`, `{"path": …}` or `{"url": …}`), read in order: `{file, bytes, sha256}`.',
  cpuBound: false,
  args: z.tuple([ChecksumInputSchema.describe('file')]),
  run: async ([input], ctx) => {
    if (!ctx.files) throw new Error('checksum needs file access');
    const ref: FileRef = 'name' in input ? { file: input.name } : input;
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of ctx.files.read(ref, ctx.signal)) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    const file = 'file' in ref ? ref.file : 'path' in ref ? ref.path : ref.url;
    return { file, bytes, sha256: hash.digest('hex') };
  },
});
